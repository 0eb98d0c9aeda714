using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;

namespace Engine.Tests.Grains;

public sealed class AccountEventLogTests
{
    private static readonly DateTimeOffset At = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);

    private static SequencedEvent Deposit(long sequence) =>
        new(sequence, new FundsDeposited(sequence) { At = At, Account = new AccountId("a1") });

    [Fact]
    public void Add_PastBound_KeepsTheNewestWithTheirSequences()
    {
        var log = new AccountEventLog();
        for (var s = 41; s <= 60; s++) log.Add(Deposit(s), bound: 8);

        Assert.Equal(8, log.Count);
        Assert.Equal(Enumerable.Range(53, 8).Select(s => (long)s), log.Select(e => e.Sequence));
        Assert.All(log, e => Assert.Equal(e.Sequence, ((FundsDeposited)e.Event).Amount));
    }

    [Fact]
    public void Add_SequenceNotFollowingOn_Throws()
    {
        var log = new AccountEventLog();
        log.Add(Deposit(5), bound: 8);

        Assert.Throws<InvalidOperationException>(() => log.Add(Deposit(7), bound: 8));
        Assert.Equal([5L], log.Select(e => e.Sequence));
    }
}
