// The baseline for the controller-ingest benchmark: a bare node:http server that reads each
// POST body and answers 202, as fast as this machine and the load client allow.
import http from "node:http";

const port = Number(process.env.PORT ?? 8080);
const accepted = '{"accepted":true}';
const headers = {
  "content-type": "application/json",
  // A declared length, as the controller sends: no chunked framing (and the load client reads none).
  "content-length": String(Buffer.byteLength(accepted)),
};
http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (b: Buffer) => chunks.push(b));
    req.on("end", () => {
      if (req.url === "/healthz") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
        return;
      }
      Buffer.concat(chunks);
      res.writeHead(202, headers).end(accepted);
    });
  })
  .listen(port, "127.0.0.1");
