import { expect } from 'aegir/chai'
import { encodeInput } from './kv-machine.ts'
import { ServiceCluster } from './service-cluster.ts'
import type { World } from '../world.ts'
import type { SimMember } from './service-cluster.ts'

/** Runs virtual time until `condition` holds or `within` ms pass, with an event every ms so that starts (which wait on promises, not on events) progress. */
async function runUntil (world: World, within: number, condition: () => boolean): Promise<boolean> {
  for (let at = 0; at <= within; at++) {
    world.schedule(at, () => {})
  }
  return world.until(within, condition)
}

/**
 * The shell under the simulator: members that crash (no `stop()`, so no
 * final write) and come back alone, with no leader in reach, apply what
 * their own disk records as committed.
 */
describe('service simulator: a member restarted alone', function () {
  this.timeout(60_000)

  it('applies up to its stored commit index after a crash of every member, before any leader is reachable', async () => {
    const cluster = await ServiceCluster.boot({ seed: 7, nodes: 3 })
    const { world } = cluster
    expect(await runUntil(world, 5000, () => cluster.leader() !== undefined)).to.equal(true, 'a leader is elected')
    const leader = cluster.leader() as SimMember
    for (let i = 0; i < 5; i++) {
      let done = false
      void leader.live.commit(encodeInput({ kind: 'write', key: 'k', value: `v${i}` })).then(() => { done = true })
      expect(await runUntil(world, 2000, () => done)).to.equal(true, `command ${i} commits`)
    }
    const committed = leader.live.commitIndex
    expect(await runUntil(world, 2000, () => cluster.members.every(m => m.live.appliedIndex === committed))).to.equal(true, 'every member applies everything')

    for (const member of cluster.members) {
      cluster.crash(member)
    }
    const follower = cluster.members.find(m => m !== leader) as SimMember
    cluster.start(follower)
    // Within one election timeout: no leader can be elected alone, so all it applies comes from its own disk.
    expect(await runUntil(world, 100, () => follower.started && follower.live.appliedIndex > 1)).to.equal(true, 'the member applies committed entries from its disk')
    const live = follower.live
    expect(live.leader).to.equal(undefined)
    expect(live.appliedIndex).to.equal(live.commitIndex)
    // A crash loses at most the commit index of the last batch or so: the last command's entry was written with the one before committed.
    expect(live.commitIndex).to.be.at.least(committed - 1)
  })
})
