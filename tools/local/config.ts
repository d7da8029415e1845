import { parseAllDocuments } from "yaml";
import { z } from "zod";

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS label");

/** The `kind: LocalStack` document of swell.local.yaml: what `npm start` runs. */
export const LocalStack = z.strictObject({
  apiVersion: z.literal("swell.dev/v1alpha1"),
  kind: z.literal("LocalStack"),
  controller: z.strictObject({
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(9090),
  }),
  services: z
    .array(
      z.strictObject({
        name,
        namespace: name.default("default"),
        kind: z.string().default("Deployment"),
        /** The service's entry, run with this Node (type stripping) per replica. */
        entry: z.string(),
        /** Port of the service's load balancer; replicas get free ports of their own. */
        port: z.number().int().min(0).max(65535),
        env: z.record(z.string(), z.string()).default({}),
      }),
    )
    .min(1),
});
export type LocalStack = z.output<typeof LocalStack>;

/**
 * Parses the LocalStack document of a multi-document YAML text, then applies port overrides
 * from the environment (`CONTROLLER_PORT`, `<SERVICE>_PORT` such as `API_PORT`), so two stacks
 * can run side by side without editing the file.
 */
export function parseLocalStack(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv,
): { ok: true; stack: LocalStack } | { ok: false; problems: string[] } {
  const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind?: unknown });
  const doc = docs.find((d) => d?.kind === "LocalStack");
  if (!doc) return { ok: false, problems: [`${file}: no document of kind LocalStack`] };
  const parsed = LocalStack.safeParse(doc);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map(
        (i) => `${file}: LocalStack.${i.path.join(".")}: ${i.message}`,
      ),
    };
  }
  const stack = parsed.data;
  const problems: string[] = [];
  const port = (variable: string, fallback: number): number => {
    const raw = env[variable];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      problems.push(`${variable}: expected an integer 0..65535, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return n;
  };
  stack.controller.port = port("CONTROLLER_PORT", stack.controller.port);
  for (const s of stack.services)
    s.port = port(`${s.name.toUpperCase().replaceAll("-", "_")}_PORT`, s.port);
  return problems.length ? { ok: false, problems } : { ok: true, stack };
}
