import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { expect } from 'aegir/chai'
import { parseBootstrap } from '../src/bootstrap.ts'
import type { BootstrapMember } from '../src/bootstrap.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** Members as plain strings, for easy comparison. */
function plain (members: BootstrapMember[]): Array<{ id: string, address?: string }> {
  return members.map(m => m.address === undefined ? { id: m.id } : { id: m.id, address: m.address.toString() })
}

function expectInvalid (list: unknown[]): void {
  expect(() => parseBootstrap(list as Array<PeerId | string | Multiaddr>)).to.throw().with.property('name', 'InvalidParametersError')
}

describe('bootstrap: parseBootstrap', () => {
  let a: PeerId
  let b: PeerId
  let c: PeerId

  before(async () => {
    a = await newPeerId()
    b = await newPeerId()
    c = await newPeerId()
  })

  it('returns nothing for an empty list', () => {
    expect(parseBootstrap([])).to.deep.equal([])
  })

  it('reads PeerId objects', () => {
    expect(plain(parseBootstrap([a, b]))).to.deep.equal([{ id: a.toString() }, { id: b.toString() }])
  })

  it('reads peer id strings', () => {
    expect(plain(parseBootstrap([a.toString(), b.toString()]))).to.deep.equal([{ id: a.toString() }, { id: b.toString() }])
  })

  it('normalizes a peer id given in its CID form', () => {
    expect(plain(parseBootstrap([a.toCID().toString()]))).to.deep.equal([{ id: a.toString() }])
  })

  it('reads multiaddr strings ending in /p2p/<id> and keeps the address', () => {
    const addr = `/ip4/127.0.0.1/tcp/4001/p2p/${a.toString()}`
    const members = parseBootstrap([addr])
    expect(plain(members)).to.deep.equal([{ id: a.toString(), address: addr }])
    expect(members[0].address?.getComponents().at(-1)?.name).to.equal('p2p')
  })

  it('reads Multiaddr objects ending in /p2p/<id> and keeps the address', () => {
    const addr = multiaddr(`/dns4/example.com/tcp/443/wss/p2p/${b.toString()}`)
    const members = parseBootstrap([addr])
    expect(members).to.have.lengthOf(1)
    expect(members[0].id).to.equal(b.toString())
    expect(members[0].address?.equals(addr)).to.be.true()
  })

  it('takes the last /p2p/ of a relayed address', () => {
    const addr = `/ip4/1.2.3.4/tcp/1/p2p/${a.toString()}/p2p-circuit/p2p/${b.toString()}`
    expect(plain(parseBootstrap([addr]))).to.deep.equal([{ id: b.toString(), address: addr }])
  })

  it('mixes all forms, in order of first appearance', () => {
    const addrC = `/ip4/10.0.0.3/tcp/4001/p2p/${c.toString()}`
    expect(plain(parseBootstrap([a, b.toString(), multiaddr(addrC)]))).to.deep.equal([
      { id: a.toString() },
      { id: b.toString() },
      { id: c.toString(), address: addrC }
    ])
  })

  it('merges duplicates', () => {
    expect(plain(parseBootstrap([a, a.toString(), a, b, b.toString()]))).to.deep.equal([{ id: a.toString() }, { id: b.toString() }])
  })

  it('keeps the address when an id is given both bare and as an address (address first)', () => {
    const addr = `/ip4/127.0.0.1/tcp/4001/p2p/${a.toString()}`
    expect(plain(parseBootstrap([addr, a, a.toString()]))).to.deep.equal([{ id: a.toString(), address: addr }])
  })

  it('keeps the address when an id is given both bare and as an address (bare first)', () => {
    const addr = `/ip4/127.0.0.1/tcp/4001/p2p/${a.toString()}`
    expect(plain(parseBootstrap([a, b, multiaddr(addr)]))).to.deep.equal([{ id: a.toString(), address: addr }, { id: b.toString() }])
  })

  describe('rejects', () => {
    it('an invalid peer id string', () => {
      expectInvalid(['not-a-peer-id'])
      expectInvalid([''])
      expectInvalid([a.toString().slice(0, -3)])
    })

    it('a multiaddr string without /p2p/', () => {
      expectInvalid(['/ip4/127.0.0.1/tcp/4001'])
    })

    it('a Multiaddr object without /p2p/', () => {
      expectInvalid([multiaddr('/ip4/127.0.0.1/tcp/4001')])
    })

    it('a multiaddr whose /p2p/ value is not a peer id', () => {
      expectInvalid(['/ip4/127.0.0.1/tcp/4001/p2p/not-a-peer-id'])
    })

    it('a string that starts with / but names an unknown protocol', () => {
      expectInvalid(['/not-a-protocol/x'])
    })

    it('a multiaddr string with a bad value', () => {
      expectInvalid(['/ip4/999.1.1.1/tcp/1/p2p/' + a.toString()])
    })

    it('a multiaddr string whose /p2p has no value', () => {
      expectInvalid(['/ip4/127.0.0.1/tcp/1/p2p'])
    })

    it('a bare /', () => {
      expectInvalid(['/'])
    })

    it('a bad entry anywhere in the list', () => {
      expectInvalid([a, b, 'nope'])
    })

    it('objects that are neither peer ids nor multiaddrs', () => {
      expectInvalid([{}])
      expectInvalid([null])
      expectInvalid([undefined])
      expectInvalid([42])
      expectInvalid([new Uint8Array(4)])
      expectInvalid([a.toCID()])
    })

    it('an object that merely has a `type` property', () => {
      expectInvalid([{ type: 'Ed25519' }])
    })
  })
})
