// A reverse proxy on 127.0.0.1:$PORT to $TARGET (an origin) that adds
// `Authorization: Bearer $TOKEN` to every request: it stands in for an MCP client that
// holds a token, in front of a server whose MCP behaviour a token-less tester checks.
// Responses, event streams included, are passed through as they come.
import http from 'node:http';

const target = new URL(process.env.TARGET);
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, authorization: `Bearer ${process.env.TOKEN}` };
  const upstream = http.request({
    host: target.hostname,
    port: target.port,
    method: req.method,
    path: req.url,
    headers,
  }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
  req.pipe(upstream);
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
