// Node's own http server, written as the Node docs advise for a graceful stop: on SIGTERM it
// answers 503 on /ready, stops listening (server.close()) and exits 0 once the open requests end.
const http = require("http");
const port = Number(process.env.PORT);
let terminating = false;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/ready") {
    res.writeHead(terminating ? 503 : 200).end(terminating ? "terminating\n" : "ok\n");
  } else if (url.pathname === "/slow") {
    setTimeout(() => res.writeHead(200).end("ok\n"), Number(url.searchParams.get("ms") || 1000));
  } else {
    res.writeHead(200).end("ok\n");
  }
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => {
  terminating = true;
  server.close(() => process.exit(0));
});
