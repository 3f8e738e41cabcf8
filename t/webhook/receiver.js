// The receiver of t/webhooks.pl and t/webhook_crash.pl: listens on 127.0.0.1,
// verifies every request with the standardwebhooks package (the reference
// verifier of the Standard Webhooks specification, not seatmgr's code) and
// appends one JSON line per request to $LOG:
//   {"at": ms, "path", "id", "timestamp", "verified", "error", "body"}
// It answers by path: /ok 204, /fail 500, /slowish 204 after 0.3 s, /slow after 10 s,
// /garbage writes no HTTP at all, /redirect 302 to a file: URL.
// usage: LOG=file SECRETS_FILE=file node receiver.js PORT
//   SECRETS_FILE holds one secret a line, read again for every request.
'use strict';
const http = require('http');
const fs = require('fs');
const { Webhook } = require('standardwebhooks');

const port = Number(process.argv[2]);
const log = process.env.LOG;
const secretsFile = process.env.SECRETS_FILE;

function verify(body, headers) {
  const secrets = fs.readFileSync(secretsFile, 'utf8').split('\n').filter(Boolean);
  let error = 'no secret';
  for (const secret of secrets) {
    try {
      new Webhook(secret).verify(body, headers);
      return null;
    } catch (e) {
      error = String(e.message || e);
    }
  }
  return error;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const error = verify(body, req.headers);
    fs.appendFileSync(log, JSON.stringify({
      at: Date.now(), path: req.url, method: req.method,
      id: req.headers['webhook-id'], timestamp: req.headers['webhook-timestamp'],
      contentType: req.headers['content-type'],
      verified: error === null, error, body,
    }) + '\n');
    if (req.url.startsWith('/fail')) {
      res.writeHead(500).end('no');
    } else if (req.url.startsWith('/slowish')) {
      setTimeout(() => res.writeHead(204).end(), 300);
    } else if (req.url.startsWith('/slow')) {
      setTimeout(() => res.writeHead(204).end(), 10000);
    } else if (req.url.startsWith('/garbage')) {
      req.socket.end('garbage, not HTTP\r\n\r\n');
    } else if (req.url.startsWith('/redirect')) {
      res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    } else {
      res.writeHead(204).end();
    }
  });
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
