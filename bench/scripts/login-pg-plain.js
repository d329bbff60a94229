function login(email, password, callback) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: configuration.PG_URL });
  const users = configuration.SCHEMA + '.users';
  client.connect(function (err) {
    if (err) return callback(err);
    client.query('SELECT id, nickname, email FROM ' + users + ' WHERE email = $1 AND plain = $2', [email, password], function (err, result) {
      client.end();
      if (err) return callback(err);
      if (result.rows.length === 0) return callback(new WrongUsernameOrPasswordError(email));
      const user = result.rows[0];
      callback(null, { user_id: 'pg-plain-' + user.id, nickname: user.nickname, email: user.email, app_metadata: { plan: 'legacy' } });
    });
  });
}
