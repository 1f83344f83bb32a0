// SPDX-License-Identifier: GPL-3.0-or-later
'use strict';
// Preloaded into the MDN HTTP Observatory scanner by observatory.py
// (NODE_OPTIONS=--require=<this file>); it changes nothing but name resolution, in that process
// and the scan process its wrapper spawns:
//  - NBOPS_SCAN_NAME resolves to NBOPS_SCAN_ADDRESS (127.0.0.1), where observatory.py's
//    forwarder listens on ports 443 (and 80), whatever DNS or /etc/hosts say about the name;
//  - any other name resolves as usual, but only if every address it resolves to is loopback:
//    otherwise the lookup fails (ENOTFOUND), so a redirect or a resource on another host never
//    takes the scanner off this machine.
// Node's net/http/tls call dns.lookup through the module object at connect time, so replacing
// the export is enough (checked on Node 20).
const dns = require('node:dns');
const net = require('node:net');

const NAME = (process.env.NBOPS_SCAN_NAME || '').toLowerCase().replace(/\.$/, '');
const ADDRESS = process.env.NBOPS_SCAN_ADDRESS || '127.0.0.1';
const originalLookup = dns.lookup;

function isLoopback(address) {
  if (net.isIPv4(address)) return address.startsWith('127.');
  const a = address.toLowerCase();
  return a === '::1' || a === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(a);
}

function notFound(hostname, why) {
  const err = new Error(`getaddrinfo ENOTFOUND ${hostname} (${why})`);
  err.code = 'ENOTFOUND';
  err.errno = -3008;
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  return err;
}

function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  } else if (typeof options === 'number') {
    options = { family: options };
  } else {
    options = options || {};
  }
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family || 0;
  const host = String(hostname).toLowerCase().replace(/\.$/, '');
  if (NAME && host === NAME) {
    const fam = net.isIPv6(ADDRESS) ? 6 : 4;
    if (family && family !== fam) {
      process.nextTick(callback, notFound(hostname, `nbops scan: pinned to ${ADDRESS} only`));
    } else if (options.all) {
      process.nextTick(callback, null, [{ address: ADDRESS, family: fam }]);
    } else {
      process.nextTick(callback, null, ADDRESS, fam);
    }
    return {};
  }
  return originalLookup.call(dns, hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err);
    if (!addresses.length || !addresses.every((a) => isLoopback(a.address))) {
      const found = addresses.map((a) => a.address).join(', ');
      return callback(notFound(hostname, `nbops scan: refused, resolves off loopback: ${found}`));
    }
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0].address, addresses[0].family);
  });
}

dns.lookup = lookup;
