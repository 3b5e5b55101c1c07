import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { set } from '../utils/kv.ts'
import { createClusterWith, createNode, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { TestNode } from '../utils/nodes.ts'

describe('service: restart', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('a member restarted alone applies what its storage records as committed, before any leader is reachable', async () => {
    const stores = [new MemoryDatastore(), new MemoryDatastore(), new MemoryDatastore()]
    const members = await createClusterWith(3, i => ({ datastore: stores[i] }))
    nodes = members
    const leader = await waitForStableLeader(members)
    for (let i = 0; i < 3; i++) {
      await leader.raft.commit(set(`k${i}`, `${i}`))
    }
    const committed = leader.raft.commitIndex
    await waitFor(() => members.every(n => n.raft.appliedIndex === committed), 'every member to apply every command')
    await stopAll(members)

    const follower = members.find(n => n !== leader) as TestNode
    const restarted = await createNode({ privateKey: follower.privateKey, bootstrap: members.map(n => n.peerId), datastore: stores[members.indexOf(follower)] })
    nodes = [restarted]
    await waitFor(() => restarted.raft.appliedIndex === committed, `the restarted member to apply up to ${committed} on its own`, 10_000)
    expect(restarted.raft.leader).to.be.undefined()
    expect(restarted.raft.commitIndex).to.equal(committed)
    expect(restarted.kv.values.get('k2')).to.equal('2')
    expect(restarted.kv.history).to.have.lengthOf(3)
  })
})
