// Loaded with `node --import` before a documentation sample: the docs say `app.listen(3000)`,
// the test runs the same code on a free local port and learns which one.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnAFreePort(...args) {
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') process.stdout.write(`\nSAMPLE_LISTENING ${address.port}\n`);
  });
  const callback = typeof args.at(-1) === 'function' ? args.at(-1) : undefined;
  return callback ? listen.call(this, 0, '127.0.0.1', callback) : listen.call(this, 0, '127.0.0.1');
};
