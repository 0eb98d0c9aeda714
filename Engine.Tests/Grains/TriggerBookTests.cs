using Engine.Grains.Orders;

namespace Engine.Tests.Grains;

public sealed class TriggerBookTests
{
    private const TriggerDirection Rise = TriggerDirection.Rise;
    private const TriggerDirection Fall = TriggerDirection.Fall;

    private static List<long> Eval(TriggerBook book, decimal price)
    {
        var fired = new List<long>();
        book.Evaluate(price, fired);
        return fired;
    }

    // ---- levels ----

    [Fact]
    public void Evaluate_RiseLevelOneTickBelowTrigger_DoesNotFire()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 100.00m);

        Assert.Empty(Eval(book, 99.99m));
        Assert.True(book.Contains(1));
    }

    [Fact]
    public void Evaluate_RiseLevelAtExactTrigger_FiresAndRemoves()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 100.00m);

        Assert.Equal([1L], Eval(book, 100.00m));
        Assert.False(book.Contains(1));
        Assert.Equal(0, book.Count);
        Assert.Empty(Eval(book, 101m));
    }

    [Fact]
    public void Evaluate_FallLevelOneTickAboveTrigger_DoesNotFire()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100.00m);

        Assert.Empty(Eval(book, 100.01m));
        Assert.True(book.Contains(1));
    }

    [Fact]
    public void Evaluate_FallLevelAtExactTrigger_FiresAndRemoves()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100.00m);

        Assert.Equal([1L], Eval(book, 100.0m));
        Assert.False(book.Contains(1));
    }

    [Fact]
    public void Evaluate_GapUpThroughSeveralRiseLevels_FiresAllInAscendingTriggerThenInsertionOrder()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 103m);
        book.AddLevel(2, Rise, 101m);
        book.AddLevel(3, Rise, 102m);
        book.AddLevel(4, Rise, 101m);
        book.AddLevel(5, Rise, 110m);
        book.AddLevel(6, Fall, 90m);

        Assert.Equal([2L, 4L, 3L, 1L], Eval(book, 105m));
        Assert.Equal(2, book.Count);
    }

    [Fact]
    public void Evaluate_GapDownThroughSeveralFallLevels_FiresAllInDescendingTriggerThenInsertionOrder()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 97m);
        book.AddLevel(2, Fall, 99m);
        book.AddLevel(3, Fall, 98m);
        book.AddLevel(4, Fall, 99m);
        book.AddLevel(5, Fall, 90m);
        book.AddLevel(6, Rise, 110m);

        Assert.Equal([2L, 4L, 3L, 1L], Eval(book, 95m));
        Assert.Equal(2, book.Count);
    }

    [Fact]
    public void Evaluate_EverythingFiresAtOnce_RiseLevelsThenFallLevelsThenRiseTrailingThenFallTrailing()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, null, 1m, 120m);   // fires at <= 119
        book.AddTrailing(2, Rise, null, 1m, 80m);    // fires at >= 81
        book.AddLevel(3, Fall, 101m);
        book.AddLevel(4, Rise, 99m);
        book.AddTrailing(5, Rise, 0.10m, null, 80m); // fires at >= 88
        book.AddLevel(6, Rise, 98m);
        book.AddTrailing(7, Fall, 0.10m, null, 120m); // fires at <= 108
        book.AddLevel(8, Fall, 102m);

        Assert.Equal([6L, 4L, 8L, 3L, 2L, 5L, 1L, 7L], Eval(book, 100m));
        Assert.Equal(0, book.Count);
    }

    // ---- remove, count, keys ----

    [Fact]
    public void Remove_LiveLevel_PreventsFiring()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 100m);
        book.AddLevel(2, Rise, 100m);

        Assert.True(book.Remove(1));

        Assert.Equal([2L], Eval(book, 100m));
    }

    [Fact]
    public void Remove_LiveTrailing_PreventsFiring()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.01m, null, 100m);
        book.AddTrailing(2, Fall, 0.02m, null, 100m);

        Assert.True(book.Remove(1));

        Assert.Empty(Eval(book, 99m));
        Assert.Equal([2L], Eval(book, 98m));
    }

    [Fact]
    public void Remove_UnknownOrAlreadyFiredKey_ReturnsFalse()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);

        Assert.False(book.Remove(42));
        Eval(book, 100m);
        Assert.False(book.Remove(1));
    }

    [Fact]
    public void Count_AddsRemovesAndFires_TracksLiveEntries()
    {
        var book = new TriggerBook();
        Assert.Equal(0, book.Count);

        book.AddLevel(1, Rise, 110m);
        book.AddLevel(2, Fall, 90m);
        book.AddTrailing(3, Fall, 0.05m, null, 100m);
        book.AddTrailing(4, Rise, null, 2m, 100m);
        Assert.Equal(4, book.Count);

        book.Remove(2);
        Assert.Equal(3, book.Count);

        // Fires the level and the trailing buy (>= 102); the trailing sell's extreme just rises to 110.
        Eval(book, 110m);
        Assert.Equal(1, book.Count);
        Assert.True(book.Contains(3));
    }

    [Fact]
    public void AddLevel_KeyAlreadyPresent_Throws()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 100m);

        Assert.Throws<ArgumentException>(() => book.AddLevel(1, Fall, 90m));
        Assert.Throws<ArgumentException>(() => book.AddTrailing(1, Fall, 0.01m, null, 90m));
        Assert.Equal(1, book.Count);
    }

    [Fact]
    public void AddLevel_KeyReusedAfterRemove_OldTriggerIsGone()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 100m);
        book.Remove(1);
        book.AddLevel(1, Rise, 105m);

        Assert.Empty(Eval(book, 100m));
        Assert.Equal([1L], Eval(book, 105m));
    }

    [Fact]
    public void AddTrailing_BothNeitherOrNonPositiveCallback_Throws()
    {
        var book = new TriggerBook();

        Assert.Throws<ArgumentException>(() => book.AddTrailing(1, Fall, 0.01m, 1m, 100m));
        Assert.Throws<ArgumentException>(() => book.AddTrailing(1, Fall, null, null, 100m));
        Assert.Throws<ArgumentOutOfRangeException>(() => book.AddTrailing(1, Fall, 0m, null, 100m));
        Assert.Throws<ArgumentOutOfRangeException>(() => book.AddTrailing(1, Fall, null, -1m, 100m));
        Assert.Equal(0, book.Count);
    }

    // ---- trailing ----

    [Fact]
    public void Evaluate_TrailingSellByRate_FollowsHighestAndFiresExactlyAtCallback()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.01m, null, 100m);

        Assert.Empty(Eval(book, 105m));
        Assert.Empty(Eval(book, 110m));
        Assert.Empty(Eval(book, 109m));
        Assert.Equal(110m, book.TrailingExtreme(1));
        Assert.Empty(Eval(book, 108.91m)); // 110 * 0.99 = 108.9
        Assert.Equal([1L], Eval(book, 108.90m));
        Assert.Null(book.TrailingExtreme(1));
    }

    [Fact]
    public void Evaluate_TrailingSellByAmount_FollowsHighestAndFiresExactlyAtCallback()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, null, 2.5m, 100m);

        Assert.Empty(Eval(book, 99m));
        Assert.Equal(100m, book.TrailingExtreme(1));
        Assert.Empty(Eval(book, 104m));
        Assert.Empty(Eval(book, 101.51m));
        Assert.Equal([1L], Eval(book, 101.5m));
    }

    [Fact]
    public void Evaluate_TrailingBuyByRate_FollowsLowestAndFiresExactlyAtCallback()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Rise, 0.02m, null, 100m);

        Assert.Empty(Eval(book, 95m));
        Assert.Empty(Eval(book, 90m));
        Assert.Empty(Eval(book, 91m));
        Assert.Equal(90m, book.TrailingExtreme(1));
        Assert.Empty(Eval(book, 91.79m)); // 90 * 1.02 = 91.8
        Assert.Equal([1L], Eval(book, 91.8m));
    }

    [Fact]
    public void Evaluate_TrailingBuyByAmount_FollowsLowestAndFiresExactlyAtCallback()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Rise, null, 3m, 100m);

        Assert.Empty(Eval(book, 96m));
        Assert.Empty(Eval(book, 98.99m));
        Assert.Equal([1L], Eval(book, 99m));
    }

    [Fact]
    public void Evaluate_TrailingPriceFallsStraightThroughCallback_ExtremeDoesNotMoveDown()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.10m, null, 100m);

        Assert.Empty(Eval(book, 95m));
        Assert.Equal(100m, book.TrailingExtreme(1));
        Assert.Equal([1L], Eval(book, 90m));
    }

    [Fact]
    public void Evaluate_TwoTrailingSellsAddedAtDifferentTimes_EachKeepsItsExtremeAndFiresAtItsOwnLevel()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.05m, null, 100m);
        Eval(book, 104m);
        Eval(book, 102m);
        book.AddTrailing(2, Fall, 0.01m, null, 102m);

        Assert.Equal(104m, book.TrailingExtreme(1));
        Assert.Equal(102m, book.TrailingExtreme(2));

        Eval(book, 103m); // only 2 moves
        Assert.Equal(104m, book.TrailingExtreme(1));
        Assert.Equal(103m, book.TrailingExtreme(2));

        Eval(book, 106m); // both move; they now share an extreme
        Assert.Equal(106m, book.TrailingExtreme(1));
        Assert.Equal(106m, book.TrailingExtreme(2));

        Assert.Empty(Eval(book, 104.95m)); // 106 * 0.99 = 104.94
        Assert.Equal([2L], Eval(book, 104.94m));
        Assert.Equal(106m, book.TrailingExtreme(1));
        Assert.Empty(Eval(book, 100.71m)); // 106 * 0.95 = 100.7
        Assert.Equal([1L], Eval(book, 100.7m));
    }

    [Fact]
    public void Evaluate_MergedTrailingSellsWithRateAndAmount_FireInTriggerOrder()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.02m, null, 100m); // 98 once at 100
        book.AddTrailing(2, Fall, null, 1m, 99m);     // 98 once at 99
        book.AddTrailing(3, Fall, null, 0.5m, 100m);  // 99.5 once at 100

        Eval(book, 100m);
        Assert.Equal(100m, book.TrailingExtreme(2));
        Assert.Equal([3L, 2L, 1L], Eval(book, 97m));
    }

    [Fact]
    public void AddTrailing_ExtremeAboveExistingGroups_TrackedIndependentlyUntilPriceCatchesUp()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, null, 5m, 100m);
        book.AddTrailing(2, Fall, null, 10m, 120m); // restored from a snapshot: above everything
        book.AddTrailing(3, Fall, null, 5m, 110m);  // in the middle

        Assert.Empty(Eval(book, 112m));
        Assert.Equal(112m, book.TrailingExtreme(1));
        Assert.Equal(120m, book.TrailingExtreme(2));
        Assert.Equal(112m, book.TrailingExtreme(3));

        Assert.Empty(Eval(book, 121m));
        Assert.Equal(121m, book.TrailingExtreme(1));
        Assert.Equal(121m, book.TrailingExtreme(2));
        Assert.Equal(121m, book.TrailingExtreme(3));

        Assert.Equal([1L, 3L], Eval(book, 116m));
        Assert.Empty(Eval(book, 111.01m));
        Assert.Equal([2L], Eval(book, 111m));
    }

    [Fact]
    public void AddTrailing_ExtremeOfAnExistingGroup_JoinsThatGroup()
    {
        // Callbacks wide enough that nothing fires: this is about grouping only.
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, null, 50m, 100m);
        book.AddTrailing(2, Fall, null, 50m, 120m);
        book.AddTrailing(3, Fall, 0.5m, null, 110m);
        book.AddTrailing(4, Fall, 0.4m, null, 120m);
        book.AddTrailing(5, Fall, null, 60m, 110m);
        Assert.Equal(3, book.TrailingGroupCount);

        Assert.Empty(Eval(book, 101m));              // the lowest group moves on its own
        book.AddTrailing(6, Fall, null, 50m, 99m);   // a new lowest group
        book.AddTrailing(7, Fall, null, 55m, 101m);  // joins the group that moved to 101
        Assert.Equal(4, book.TrailingGroupCount);

        Assert.Empty(Eval(book, 115m));              // 99, 101 and 110 merge at 115
        Assert.Equal(2, book.TrailingGroupCount);
        Assert.Equal(115m, book.TrailingExtreme(6));
        Assert.Equal(120m, book.TrailingExtreme(4));
        Assert.Equal(7, book.Count);
    }

    [Fact]
    public void TrailingExtreme_LevelOrUnknownKey_ReturnsNull()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 100m);

        Assert.Null(book.TrailingExtreme(1));
        Assert.Null(book.TrailingExtreme(2));
    }

    [Fact]
    public void Evaluate_ExtremesMove_ReportsWhichDirectionsMoved()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.10m, null, 100m);
        book.AddTrailing(2, Rise, 0.10m, null, 100m);
        var fired = new List<long>();

        Assert.Equal(TrailingMoves.None, book.Evaluate(100m, fired));
        Assert.Equal(TrailingMoves.Fall, book.Evaluate(101m, fired));
        Assert.Equal(TrailingMoves.None, book.Evaluate(100.5m, fired));
        Assert.Equal(TrailingMoves.Rise, book.Evaluate(99m, fired));
        Assert.Empty(fired);
    }

    [Fact]
    public void MoveTrailingExtremes_OneDirection_MovesOnlyThatDirectionAndFiresNothing()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.01m, null, 100m);
        book.AddTrailing(2, Rise, 0.01m, null, 100m);

        book.MoveTrailingExtremes(Fall, 110m);
        book.MoveTrailingExtremes(Fall, 105m);
        book.MoveTrailingExtremes(Rise, 90m);
        book.MoveTrailingExtremes(Rise, 95m);

        Assert.Equal(110m, book.TrailingExtreme(1));
        Assert.Equal(90m, book.TrailingExtreme(2));
        Assert.Equal(2, book.Count);
    }

    [Fact]
    public void MoveTrailingExtremes_ReplayOfJournaledMoves_SameStateAsEvaluate()
    {
        decimal[] quiet = [100m, 101m, 101.5m, 100.5m, 99.6m, 100.2m, 101.3m, 99.7m];
        decimal[] later = [98m, 101m, 107m, 102m, 97m, 95m, 110m];

        var live = NewReplayBook();
        var replayed = NewReplayBook();
        foreach (var price in quiet)
        {
            var fired = new List<long>();
            var moves = live.Evaluate(price, fired);
            Assert.Empty(fired);
            if ((moves & TrailingMoves.Fall) != 0)
            {
                replayed.MoveTrailingExtremes(Fall, price);
            }

            if ((moves & TrailingMoves.Rise) != 0)
            {
                replayed.MoveTrailingExtremes(Rise, price);
            }
        }

        for (long key = 1; key <= 6; key++)
        {
            Assert.Equal(live.TrailingExtreme(key), replayed.TrailingExtreme(key));
        }

        foreach (var price in later)
        {
            Assert.Equal(Eval(live, price), Eval(replayed, price));
        }

        Assert.Equal(0, live.Count);
        Assert.Equal(0, replayed.Count);
    }

    [Fact]
    public void MoveTrailingExtremes_ThenEvaluateAtSamePrice_SameAsEvaluateAlone()
    {
        var a = NewReplayBook();
        var b = NewReplayBook();
        foreach (var price in new[] { 103m, 96m, 104m, 98.5m, 92m, 110m })
        {
            b.MoveTrailingExtremes(Fall, price);
            b.MoveTrailingExtremes(Rise, price);
            Assert.Equal(Eval(a, price), Eval(b, price));
        }
    }

    private static TriggerBook NewReplayBook()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.02m, null, 100m);
        book.AddTrailing(2, Fall, null, 3m, 100m);
        book.AddTrailing(3, Rise, 0.03m, null, 100m);
        book.AddTrailing(4, Rise, null, 2m, 100m);
        book.AddTrailing(5, Fall, 0.05m, null, 101m);
        book.AddTrailing(6, Rise, null, 6m, 99m);
        return book;
    }

    [Fact]
    public void Evaluate_PriceThatFiresAndMovesNothing_AllocatesNothing()
    {
        var book = new TriggerBook();
        for (long key = 0; key < 1000; key++)
        {
            book.AddLevel(key, key % 2 == 0 ? Rise : Fall, key % 2 == 0 ? 110m + key : 90m - (key / 100m));
        }

        book.AddTrailing(5000, Fall, 0.05m, null, 101m);
        book.AddTrailing(5001, Rise, null, 5m, 99m);
        var fired = new List<long>();
        book.Evaluate(100m, fired);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            book.Evaluate(i % 2 == 0 ? 100m : 100.5m, fired);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Empty(fired);
    }

    [Fact]
    public void Evaluate_NonPositivePrice_Throws()
    {
        var book = new TriggerBook();

        Assert.Throws<ArgumentOutOfRangeException>(() => book.Evaluate(0m, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => book.MoveTrailingExtremes(Fall, -1m));
    }

    // ---- randomized comparison with a naive reference ----

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Evaluate_RandomOperations_MatchesNaiveReference(int seed)
    {
        var random = new Random(seed);
        var book = new TriggerBook();
        var reference = new ReferenceTriggerBook();
        var price = 100.00m;
        var liveKeys = new List<long>();
        var usedExtremes = new List<decimal> { price };
        long nextKey = 1;

        for (var step = 0; step < 6000; step++)
        {
            var op = random.Next(100);
            if (op < 25)
            {
                var key = PickNewKey(random, ref nextKey, liveKeys);
                var direction = random.Next(2) == 0 ? Rise : Fall;
                var trigger = price + (random.Next(-1000, 1001) / 100m);
                if (trigger <= 0m)
                {
                    trigger = 0.01m;
                }

                book.AddLevel(key, direction, trigger);
                reference.AddLevel(key, direction, trigger);
                liveKeys.Add(key);
            }
            else if (op < 45)
            {
                var key = PickNewKey(random, ref nextKey, liveKeys);
                var direction = random.Next(2) == 0 ? Rise : Fall;
                decimal? rate = null;
                decimal? amount = null;
                if (random.Next(2) == 0)
                {
                    rate = random.Next(1, 100) / 1000m;
                }
                else
                {
                    amount = random.Next(1, 1000) / 100m;
                }

                var extreme = random.Next(4) switch
                {
                    0 => price,
                    1 => usedExtremes[random.Next(usedExtremes.Count)],
                    2 => Math.Max(0.5m, price + (random.Next(-1000, 1001) / 100m)),
                    _ => reference.AnyTrailingExtreme(random) ?? price,
                };
                usedExtremes.Add(extreme);

                book.AddTrailing(key, direction, rate, amount, extreme);
                reference.AddTrailing(key, direction, rate, amount, extreme);
                liveKeys.Add(key);
            }
            else if (op < 55)
            {
                long key;
                if (liveKeys.Count != 0 && random.Next(4) != 0)
                {
                    key = liveKeys[random.Next(liveKeys.Count)];
                }
                else
                {
                    key = random.Next(1, (int)nextKey + 5);
                }

                var expected = reference.Remove(key);
                Assert.Equal(expected, book.Remove(key));
                liveKeys.Remove(key);
            }
            else if (op < 60)
            {
                var direction = random.Next(2) == 0 ? Rise : Fall;
                var target = Math.Max(0.5m, price + (random.Next(-200, 201) / 100m));
                book.MoveTrailingExtremes(direction, target);
                reference.MoveTrailingExtremes(direction, target);
            }
            else
            {
                price = random.Next(40) == 0
                    ? Math.Max(1m, price + (random.Next(-800, 801) / 100m))
                    : Math.Max(1m, price + (random.Next(-30, 31) / 100m));
                var actualFired = new List<long>();
                var expectedFired = new List<long>();
                var actualMoves = book.Evaluate(price, actualFired);
                var expectedMoves = reference.Evaluate(price, expectedFired);

                Assert.Equal(expectedFired, actualFired);
                Assert.Equal(expectedMoves, actualMoves);
                foreach (var key in actualFired)
                {
                    liveKeys.Remove(key);
                }
            }

            Assert.Equal(reference.Count, book.Count);
            if (step % 7 == 0)
            {
                foreach (var (key, extreme) in reference.Extremes())
                {
                    Assert.Equal(extreme, book.TrailingExtreme(key));
                }

                foreach (var key in liveKeys)
                {
                    Assert.True(book.Contains(key));
                }
            }
        }
    }

    private static long PickNewKey(Random random, ref long nextKey, List<long> liveKeys)
    {
        // Reusing a key that was removed or fired exercises the level heaps' lazily deleted nodes.
        if (nextKey > 1 && random.Next(3) == 0)
        {
            long candidate = random.Next(1, (int)nextKey);
            if (!liveKeys.Contains(candidate))
            {
                return candidate;
            }
        }

        return nextKey++;
    }
}
