// Which addresses an image URL may be fetched from: public ones only, checked on the address DNS gave,
// which is then the one connected to (no gap for a second, different answer).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local, CGNAT (100.64/10),
 * multicast, unspecified, and the reserved and documentation ranges: nothing a public image lives
 * at. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as the IPv4 address they map
 * (node's BlockList does so), and IPv4-compatible and NAT64 ones (::/96, 64:ff9b::/96) refused.
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** True for an address no image URL may reach unless the operator allows it (IMAGE_FETCH_ALLOW_PRIVATE). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A host that resolved (or is written as) an address not to be fetched from. */
export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
  constructor(readonly host: string) {
    super(`${host} is a private, loopback, link-local or otherwise non-public address`);
  }
}

/**
 * A `lookup` for node's http(s).request: resolves as usual, refuses the host when any of its
 * addresses is not public, else hands the checked addresses to the connection itself.
 */
export function publicOnlyLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { family: options.family, hints: options.hints, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (!allowPrivate && addresses.some((each) => isPrivateAddress(each.address))) return callback(new PrivateAddressError(hostname), '', 0);
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
