// README's receiver: verifies a seatmgr webhook in a few lines.
// usage: WEBHOOK_SECRET=whsec_... node example.js   (listens on 127.0.0.1:PORT)
const http = require('http');
const { Webhook } = require('standardwebhooks');
const wh = new Webhook(process.env.WEBHOOK_SECRET);

http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    try {
      const event = wh.verify(body, req.headers);   // throws unless the signature is valid
      console.log(req.headers['webhook-id'], event.type, event.data.email ?? event.data.run_id);
      res.writeHead(204).end();
    } catch (e) {
      res.writeHead(400).end();
    }
  });
}).listen(Number(process.env.PORT || 8080), '127.0.0.1');
