// Baseline for the bcrypt login scenario: a "webtask-like" Node.js HTTP server running the same
// Auth0-style login script (bench/scripts/*.js) with the real npm `pg` and native `bcrypt`, in a
// vm context compiled once (a warm container), and signing an RS256 access token and ID token per
// successful login as Sluice does.
//   node login-server.js <port> <script.js> <pg_url> <schema>
// POST /login with a form body `username=..&password=..` → 200 {access_token, id_token} or 403.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const vm = require('node:vm');
const crypto = require('node:crypto');

const [port, scriptPath, pgUrl, schema] = process.argv.slice(2);
class WrongUsernameOrPasswordError extends Error { constructor(e, m) { super(m || 'Wrong email or password.'); this.name = 'WrongUsernameOrPasswordError'; } }
class UnauthorizedError extends Error { constructor(m) { super(m); this.name = 'UnauthorizedError'; } }

const sandbox = { require, configuration: { PG_URL: pgUrl, SCHEMA: schema }, WrongUsernameOrPasswordError, UnauthorizedError, console };
const ctx = vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(scriptPath, 'utf8') + '\nthis.__login = login;', ctx);

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function jwt(claims) {
  const input = b64({ alg: 'RS256', typ: 'JWT', kid: 'bench' }) + '.' + b64(claims);
  return input + '.' + crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
}

http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const f = new URLSearchParams(body);
    sandbox.__login(f.get('username'), f.get('password'), (err, profile) => {
      if (err || !profile) {
        res.writeHead(403, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Wrong email or password.' }));
      }
      const now = Math.floor(Date.now() / 1000);
      const sub = 'auth0|' + profile.user_id;
      const out = {
        access_token: jwt({ iss: 'http://127.0.0.1/', sub, aud: 'http://127.0.0.1/userinfo', iat: now, exp: now + 86400, scope: 'openid' }),
        id_token: jwt({ iss: 'http://127.0.0.1/', sub, aud: 'bench', iat: now, exp: now + 36000, email: profile.email, nickname: profile.nickname }),
        token_type: 'Bearer', expires_in: 86400,
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
    });
  });
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
