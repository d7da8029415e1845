// The floor under the agent's memory: a Node process with the agent's flags that does nothing
// (FLOOR=empty), or that serves and sends HTTP over node:http four times a second like the
// agent's scrape loop but does nothing else (FLOOR=http). Its RSS is what Node itself costs.
if (process.env.FLOOR === "http") {
  const http = await import("node:http");
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((_req, res) => res.end("ok"));
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    setInterval(() => {
      http.get({ host: "127.0.0.1", port, agent }, (res) => res.resume());
    }, 250);
  });
} else {
  setInterval(() => {}, 1000);
}
