using Engine.Grains.Risk;

namespace Engine.Tests.Grains;

/// <summary>One symbol's circuit breaker and manual halt, driven by index changes and time.</summary>
public sealed class CircuitBreakerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 12, 12, 0, 0, TimeSpan.Zero);
    private static readonly CircuitBreakerSettings Settings = new(0.04m, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), true);

    private static SymbolCircuitBreaker Breaker(CircuitBreakerSettings? settings = null) => new("BTC-USDT", settings ?? Settings);

    [Fact]
    public void Observe_FivePercentJumpWithinTheWindow_HaltsForThePause()
    {
        var b = Breaker();
        b.Observe(T0, 60_000m, false);
        b.Observe(T0.AddSeconds(20), 61_000m, false);

        var changed = b.Observe(T0.AddSeconds(30), 63_000m, false);

        Assert.True(changed);
        Assert.Equal(new SymbolHalt(HaltReasons.PriceMove, T0.AddSeconds(30), T0.AddSeconds(60)), b.Halt);
    }

    [Fact]
    public void Observe_SameMoveSpreadBeyondTheWindow_DoesNotHalt()
    {
        var b = Breaker();
        var t = T0;
        var price = 60_000m;
        for (var i = 0; i < 30; i++)
        {
            // +0.5% every 10 s: 4% takes 80 s, longer than the 60 s window.
            Assert.False(b.Observe(t, price, false));
            t = t.AddSeconds(10);
            price = decimal.Round(price * 1.005m, 1);
        }

        Assert.Null(b.Halt);
        Assert.True(price > 60_000m * 1.15m);
        Assert.InRange(b.WindowLength, 1, 7);
    }

    [Fact]
    public void Observe_DropBeyondTheFraction_Halts()
    {
        var b = Breaker();
        b.Observe(T0, 60_000m, false);

        Assert.False(b.Observe(T0.AddSeconds(1), 57_600m, false));
        Assert.True(b.Observe(T0.AddSeconds(2), 57_599.9m, false));
        Assert.Equal(HaltReasons.PriceMove, b.Halt!.Reason);
    }

    [Fact]
    public void Advance_PauseElapsed_ResumesAndTheWindowStartsAgainFromTheResumePrice()
    {
        var b = Breaker();
        b.Observe(T0, 60_000m, false);
        b.Observe(T0.AddSeconds(1), 63_000m, false);
        b.Observe(T0.AddSeconds(10), 63_500m, false);

        Assert.False(b.Advance(T0.AddSeconds(30)));
        Assert.True(b.Advance(T0.AddSeconds(31)));

        Assert.Null(b.Halt);
        Assert.Equal(HaltReasons.BreakerClosed, b.ResumeReason);
        // 63,500 is the new reference: 60,000 is a 5.5% drop from it, 63,500 * 0.96 = 60,960 is not.
        Assert.False(b.Observe(T0.AddSeconds(32), 61_000m, false));
        Assert.True(b.Observe(T0.AddSeconds(33), 60_900m, false));
    }

    [Fact]
    public void Observe_DegradedAfterHealthy_HaltsUntilHealthyAgain()
    {
        var b = Breaker();
        // Degraded from the start (one source so far): no halt.
        Assert.False(b.Observe(T0, 60_000m, true));
        Assert.False(b.Observe(T0.AddSeconds(1), 60_010m, false));

        Assert.True(b.Observe(T0.AddSeconds(2), 60_020m, true));
        Assert.Equal(new SymbolHalt(HaltReasons.IndexDegraded, T0.AddSeconds(2), null), b.Halt);
        Assert.False(b.Advance(T0.AddHours(1)));

        Assert.True(b.Observe(T0.AddHours(1), 60_030m, false));
        Assert.Null(b.Halt);
        Assert.Equal(HaltReasons.IndexRecovered, b.ResumeReason);
    }

    [Fact]
    public void OperatorHalt_WithUntil_ResumesByItselfThen()
    {
        var b = Breaker();

        Assert.True(b.OperatorHalt(T0, T0.AddMinutes(5)));
        Assert.Equal(new SymbolHalt(HaltReasons.Operator, T0, T0.AddMinutes(5)), b.Halt);
        Assert.False(b.OperatorHalt(T0.AddSeconds(1), T0.AddMinutes(5)));
        Assert.False(b.Advance(T0.AddMinutes(4)));

        Assert.True(b.Advance(T0.AddMinutes(5)));
        Assert.Null(b.Halt);
        Assert.Equal(HaltReasons.UntilReached, b.ResumeReason);
    }

    [Fact]
    public void OperatorResume_BreakerPauseAndDegradedIndex_EndsBothUntilTheIndexIsHealthyAndDegradedAgain()
    {
        var b = Breaker();
        b.Observe(T0, 60_000m, false);
        b.Observe(T0.AddSeconds(1), 64_000m, true);
        Assert.Equal(HaltReasons.PriceMove, b.Halt!.Reason);

        Assert.True(b.OperatorResume(T0.AddSeconds(2)));
        Assert.Null(b.Halt);
        Assert.Equal(HaltReasons.Operator, b.ResumeReason);
        Assert.False(b.Observe(T0.AddSeconds(3), 64_010m, true));
        Assert.False(b.Observe(T0.AddSeconds(4), 64_020m, false));

        Assert.True(b.Observe(T0.AddSeconds(5), 64_030m, true));
        Assert.Equal(HaltReasons.IndexDegraded, b.Halt!.Reason);
    }

    [Fact]
    public void OperatorHalt_OverABreakerPause_KeepsItsStartAndRanksFirst()
    {
        var b = Breaker();
        b.Observe(T0, 60_000m, false);
        b.Observe(T0.AddSeconds(1), 64_000m, false);

        b.OperatorHalt(T0.AddSeconds(5), null);

        Assert.Equal(new SymbolHalt(HaltReasons.Operator, T0.AddSeconds(1), null), b.Halt);
        Assert.False(b.Advance(T0.AddMinutes(10)));
        Assert.NotNull(b.Halt);
    }

    [Fact]
    public void Restore_HaltFromTheJournal_ContinuesAsIfNeverStopped()
    {
        var moved = Breaker();
        moved.Restore(new SymbolHalt(HaltReasons.PriceMove, T0, T0.AddSeconds(30)));
        var degraded = Breaker();
        degraded.Restore(new SymbolHalt(HaltReasons.IndexDegraded, T0, null));
        var manual = Breaker();
        manual.Restore(new SymbolHalt(HaltReasons.Operator, T0, null));

        Assert.True(moved.Advance(T0.AddSeconds(30)));
        Assert.False(degraded.Observe(T0.AddSeconds(1), 60_000m, true));
        Assert.True(degraded.Observe(T0.AddSeconds(2), 60_000m, false));
        Assert.False(manual.Advance(T0.AddDays(1)));
        Assert.True(manual.OperatorResume(T0.AddDays(1)));
    }

    [Fact]
    public void Observe_BreakerOff_NeverHalts()
    {
        var b = Breaker(CircuitBreakerSettings.Off);
        b.Observe(T0, 60_000m, false);

        Assert.False(b.Observe(T0.AddSeconds(1), 30_000m, true));
        Assert.Null(b.Halt);
        Assert.Equal(0, b.WindowLength);
    }
}
