function login(email, password, callback) {
  const { Client } = require('pg');
  const bcrypt = require('bcrypt');
  const client = new Client({ connectionString: configuration.PG_URL });
  const users = configuration.SCHEMA + '.users';
  client.connect(function (err) {
    if (err) return callback(err);
    client.query('SELECT id, nickname, email, password FROM ' + users + ' WHERE email = $1', [email], function (err, result) {
      if (err) { client.end(); return callback(err); }
      if (result.rows.length === 0) { client.end(); return callback(new WrongUsernameOrPasswordError(email)); }
      const user = result.rows[0];
      bcrypt.compare(password, user.password, function (err, isValid) {
        client.end();
        if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));
        callback(null, { user_id: 'pg-' + user.id, nickname: user.nickname, email: user.email, app_metadata: { plan: 'legacy' } });
      });
    });
  });
}
