// Part of `npm run lint`: fails naming file:line for every merge conflict marker in a tracked
// file, since a merge once committed them and Biome does not read every file (Markdown, shell).
import { scanRepository } from "./scan.ts";

const findings = scanRepository(process.cwd());
for (const f of findings) process.stderr.write(`${f.file}:${f.line}: conflict marker: ${f.text}\n`);
if (findings.length > 0) {
  process.stderr.write(`${findings.length} conflict marker line(s): resolve the merge\n`);
  process.exit(1);
}
