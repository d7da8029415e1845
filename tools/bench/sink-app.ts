// The baseline for the controller-ingest benchmark: a bare node:http server that reads each
// POST body and answers 202, as fast as this machine and the load client allow.
import http from "node:http";

const port = Number(process.env.PORT ?? 8080);
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
      res.writeHead(202, { "content-type": "application/json" }).end('{"accepted":true}');
    });
  })
  .listen(port, "127.0.0.1");
