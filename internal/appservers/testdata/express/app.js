// The Express web app of the internal/appservers tests. It answers every
// request with the identity it believes it received, read the way Express
// users read it: req.get('x-auth-user') and friends.
//
// Usage: node app.js PORT
'use strict';

const express = require('express');

// The headers the gateway sets or must keep from the client (docs/security.md).
const names = [
  'X-Auth-User', 'X-Auth-Token-Type', 'X-Locale', 'X-Refreshed-Token',
  'X-Auth-Assertion', 'X-Auth-User-Truncated', 'X-Request-Id',
  'X-Forwarded-For', 'X-Real-IP', 'Cookie', 'Authorization',
];

function decodeUser(raw) {
  if (raw === undefined) return null;
  try {
    return JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch (e) {
    return 'undecodable';
  }
}

const app = express();
app.disable('x-powered-by');
app.use((req, res) => {
  const values = {};
  for (const n of names) values[n] = req.get(n) ?? null;
  const middleware = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith('x-middleware-')) middleware[k] = v;
  }
  res.json({
    software: `express/${require('express/package.json').version} node/${process.version}`,
    method: req.method,
    path: req.path,
    readings: {
      'req.get': { values, user: decodeUser(req.get('X-Auth-User')), middleware },
    },
  });
});

const port = Number(process.argv[2]);
app.listen(port, '127.0.0.1');
