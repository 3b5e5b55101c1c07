/**
 * Which directed links between simulated nodes are cut. Shared by the
 * synchronous test cluster and the simulator.
 */
export class Links {
  private readonly cut = new Set<string>()

  /** Whether a message from `from` to `to` is lost. */
  isCut (from: string, to: string): boolean {
    return this.cut.has(`${from}->${to}`)
  }

  /** Cuts every link between the groups, both ways. */
  partition (...groups: string[][]): void {
    for (const [i, group] of groups.entries()) {
      const outside = groups.filter((_, j) => j !== i).flat()
      for (const x of group) {
        outside.forEach(y => this.cut.add(`${x}->${y}`))
      }
    }
  }

  /** Cuts one direction only. */
  cutLink (from: string, to: string): void {
    this.cut.add(`${from}->${to}`)
  }

  /** Two halves that only `bridge` can talk across. */
  bridge (left: string[], bridge: string, right: string[]): void {
    this.partition(left, right)
    for (const id of [...left, ...right]) {
      this.cut.delete(`${id}->${bridge}`)
      this.cut.delete(`${bridge}->${id}`)
    }
  }

  heal (): void {
    this.cut.clear()
  }
}
