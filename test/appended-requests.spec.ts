import { expect } from 'aegir/chai'
import { AppendedRequests } from '../src/service/appended-requests.ts'

describe('appended requests: a leader appends each forwarded command once', () => {
  it('remembers where a request went, by sender and id, for the current term only', () => {
    const appended = new AppendedRequests(10)
    appended.remember(3, 'a', 7, { index: 12, term: 3 })
    expect(appended.get(3, 'a', 7)).to.deep.equal({ index: 12, term: 3 })
    // another member may draw the same id
    expect(appended.get(3, 'b', 7)).to.be.undefined()
    // a new term starts afresh: requests for older terms are refused anyway
    expect(appended.get(4, 'a', 7)).to.be.undefined()
    expect(appended.get(3, 'a', 7)).to.be.undefined()
  })

  it('once it forgot a request, refuses one sent again that it does not remember, but takes first sends', () => {
    const appended = new AppendedRequests(2)
    expect(appended.mayAppend(1, true)).to.be.true()
    for (let id = 1; id <= 3; id++) {
      appended.remember(1, 'a', id, { index: id, term: 1 })
    }
    expect(appended.get(1, 'a', 1)).to.be.undefined('the oldest is forgotten')
    expect(appended.get(1, 'a', 3)).to.deep.equal({ index: 3, term: 1 })
    expect(appended.mayAppend(1, true)).to.be.false()
    expect(appended.mayAppend(1, false)).to.be.true()
    // a new term has forgotten nothing
    expect(appended.mayAppend(2, true)).to.be.true()
  })
})
