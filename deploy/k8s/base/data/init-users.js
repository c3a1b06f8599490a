// Runs once, as root, when the MongoDB data volume is empty (official image: /docker-entrypoint-initdb.d).
// One database and one user per service; each user may only readWrite its own database. Passwords come from the
// mongodb-users Secret mounted at /etc/mongodb-users, the same keys the services read.
const fs = require('fs');
const services = ['user', 'catalog', 'order', 'inventory', 'payment', 'notification'];
for (const service of services) {
  const database = `tracemart_${service}`;
  const pwd = fs.readFileSync(`/etc/mongodb-users/${service}-password`, 'utf8').trim();
  const target = db.getSiblingDB(database);
  if (target.getUser(service) === null) {
    target.createUser({ user: service, pwd, roles: [{ role: 'readWrite', db: database }] });
    print(`created user ${service} on ${database}`);
  }
}
