// Run by the job mongodb-rs-init (mongosh, connected to mongodb-0 once all three members answer). Idempotent: the
// replica set is initiated only while mongodb-0 reports NotYetInitialized; later runs find it and change nothing.
// Then it waits for a primary, so that the services' first majority writes find one.
const admin = db.getSiblingDB('admin');
admin.auth(process.env.MONGO_ROOT_USERNAME, process.env.MONGO_ROOT_PASSWORD);
const members = [0, 1, 2].map((i) => ({ _id: i, host: `mongodb-${i}.mongodb:27017` }));
try {
  const status = rs.status();
  print(`replica set ${status.set} already initiated with ${status.members.length} members`);
} catch (error) {
  if (error.codeName !== 'NotYetInitialized') throw error;
  rs.initiate({ _id: 'rs0', members });
  print(`initiated rs0 with ${members.map((m) => m.host).join(', ')}`);
}
for (let attempt = 0; ; attempt++) {
  const primary = rs.status().members.find((m) => m.stateStr === 'PRIMARY');
  if (primary) {
    print(`primary: ${primary.name}`);
    break;
  }
  if (attempt >= 120) throw new Error('no primary after 120 s');
  sleep(1000);
}
