using Engine.Grains.Orders;

namespace Engine.Tests.Grains;

/// <summary>
/// The stepwise evaluation (BeginEvaluation, TryNextFired, CompleteEvaluation) that lets the shard act
/// on each fired key while the book is still taking them out: the same keys in the same order as
/// Evaluate, level entries fired when the evaluation begins whatever happens to them meanwhile, entries
/// added meanwhile left for the next price.
/// </summary>
public sealed class TriggerBookEvaluationTests
{
    private const TriggerDirection Rise = TriggerDirection.Rise;
    private const TriggerDirection Fall = TriggerDirection.Fall;

    private static List<long> Eval(TriggerBook book, decimal price)
    {
        var fired = new List<long>();
        book.Evaluate(price, fired);
        return fired;
    }

    private static List<long> Drain(TriggerBook book)
    {
        var fired = new List<long>();
        while (book.TryNextFired(out var key))
        {
            fired.Add(key);
        }

        return fired;
    }

    private static TriggerBook MixedBook()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, null, 1m, 120m);    // fires at <= 119
        book.AddTrailing(2, Rise, null, 1m, 80m);     // fires at >= 81
        book.AddLevel(3, Fall, 101m);
        book.AddLevel(4, Rise, 99m);
        book.AddTrailing(5, Rise, 0.10m, null, 80m);  // fires at >= 88
        book.AddLevel(6, Rise, 98m);
        book.AddTrailing(7, Fall, 0.10m, null, 120m); // fires at <= 108
        book.AddLevel(8, Fall, 102m);
        book.AddLevel(9, Fall, 90m);                  // not reached
        return book;
    }

    [Fact]
    public void TryNextFired_MixedBook_HandsOutWhatEvaluateAppendsInTheSameOrder()
    {
        var stepwise = MixedBook();

        Assert.True(stepwise.BeginEvaluation(100m, out _));
        Assert.True(stepwise.IsEvaluating);
        var handedOut = Drain(stepwise);
        Assert.False(stepwise.TryNextFired(out _));
        stepwise.CompleteEvaluation();

        Assert.Equal(Eval(MixedBook(), 100m), handedOut);
        Assert.Equal([6L, 4L, 8L, 3L, 2L, 5L, 1L, 7L], handedOut);
        Assert.False(stepwise.IsEvaluating);
        Assert.Equal(1, stepwise.Count);
    }

    [Fact]
    public void BeginEvaluation_PriceFiresNothing_OpensNoEvaluationButReportsMoves()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 110m);
        book.AddTrailing(2, Fall, 0.05m, null, 100m);

        Assert.False(book.BeginEvaluation(101m, out var moves));

        Assert.Equal(TrailingMoves.Fall, moves);
        Assert.False(book.IsEvaluating);
        Assert.Equal(101m, book.TrailingExtreme(2));
        Assert.Throws<InvalidOperationException>(() => book.TryNextFired(out _));
    }

    [Fact]
    public void AddLevel_DuringEvaluationAtAReachedTrigger_FiresOnlyAtTheNextPrice()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);
        book.AddLevel(2, Rise, 90m);

        Assert.True(book.BeginEvaluation(95m, out _));
        Assert.True(book.TryNextFired(out var first));
        book.AddLevel(10, Fall, 99m);  // reached by 95
        book.AddLevel(11, Rise, 80m);  // reached by 95
        book.AddLevel(12, Fall, 200m); // above everything: would sift to the top of the heap
        var rest = Drain(book);
        book.CompleteEvaluation();

        Assert.Equal([2L, 1L], [first, .. rest]);
        Assert.Equal(3, book.Count);
        Assert.Equal(3, book.LevelCount);
        Assert.Equal([11L, 12L, 10L], Eval(book, 95m));
        Assert.Equal(0, book.Count);
    }

    [Fact]
    public void AddTrailing_DuringEvaluationAlreadyReached_WaitsForTheNextPrice()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);

        Assert.True(book.BeginEvaluation(100m, out _));
        Assert.True(book.TryNextFired(out var first));
        // Extreme 110 and 1%: fires at <= 108.9, which 100 is.
        book.AddTrailing(10, Fall, 0.01m, null, 110m);
        Assert.True(book.Contains(10));
        Assert.Equal(110m, book.TrailingExtreme(10));
        Assert.Equal(1, book.Count);
        Assert.Empty(Drain(book));
        book.CompleteEvaluation();

        Assert.Equal(1L, first);
        Assert.Equal(1, book.TrailingCount);
        Assert.Equal(110m, book.TrailingExtreme(10));
        Assert.Equal([10L], Eval(book, 100m));
    }

    [Fact]
    public void AddTrailing_DuringEvaluationThenRemoved_NeverFires()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);

        Assert.True(book.BeginEvaluation(100m, out _));
        book.AddTrailing(10, Fall, 0.01m, null, 110m);
        Assert.True(book.Remove(10));
        Assert.Null(book.TrailingExtreme(10));
        Assert.Equal([1L], Drain(book));
        book.CompleteEvaluation();

        Assert.Equal(0, book.Count);
        Assert.Empty(Eval(book, 50m));
    }

    [Fact]
    public void Remove_LevelReachedButNotHandedOutYet_ReturnsFalseAndItIsStillHandedOut()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);
        book.AddLevel(2, Fall, 99m);
        book.AddLevel(3, Fall, 98m);

        Assert.True(book.BeginEvaluation(98m, out _));
        Assert.True(book.TryNextFired(out var first));
        Assert.False(book.Contains(3));
        Assert.False(book.Remove(2));
        Assert.False(book.Remove(3));
        var rest = Drain(book);
        book.CompleteEvaluation();

        // As with Evaluate: all three fired when the price came, so all three are handed out.
        Assert.Equal([1L, 2L, 3L], [first, .. rest]);
        Assert.Equal(0, book.Count);
    }

    [Fact]
    public void AddLevel_KeyOfAReachedLevelNotHandedOutYet_OldEntryIsHandedOutAndNewOneWaits()
    {
        // A fill during the tick moves a position's liquidation level: the shard removes and re-adds its key.
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);
        book.AddLevel(-7, Fall, 99m);

        Assert.True(book.BeginEvaluation(98m, out _));
        Assert.True(book.TryNextFired(out var first));
        Assert.False(book.Remove(-7));
        book.AddLevel(-7, Fall, 98.5m);
        book.AddLevel(-8, Fall, 97m);
        Assert.True(book.Contains(-7));
        var rest = Drain(book);
        book.CompleteEvaluation();

        Assert.Equal([1L, -7L], [first, .. rest]);
        Assert.True(book.Contains(-7));
        Assert.Equal(2, book.LevelCount);
        Assert.Equal([-7L], Eval(book, 98.4m));
        Assert.Equal([-8L], Eval(book, 97m));
    }

    [Fact]
    public void AddLevel_KeyOfAReachedLevelWithoutRemovingIt_IsAcceptedAsAfterEvaluate()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Rise, 100m);
        book.AddLevel(2, Rise, 101m);

        Assert.True(book.BeginEvaluation(101m, out _));
        Assert.True(book.TryNextFired(out var first));
        book.AddLevel(2, Rise, 150m); // key 2 fired when the evaluation began: it is free
        var rest = Drain(book);
        book.CompleteEvaluation();

        Assert.Equal([1L, 2L], [first, .. rest]);
        Assert.Empty(Eval(book, 149m));
        Assert.Equal([2L], Eval(book, 150m));
    }

    [Fact]
    public void Remove_TrailingNotHandedOutYet_IsNotHandedOut()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);
        book.AddTrailing(2, Fall, null, 1m, 100m);
        book.AddTrailing(3, Fall, null, 2m, 100m);

        Assert.True(book.BeginEvaluation(98m, out _));
        Assert.True(book.TryNextFired(out var first));
        Assert.True(book.Remove(3));
        var rest = Drain(book);
        book.CompleteEvaluation();

        Assert.Equal([1L, 2L], [first, .. rest]);
        Assert.Equal(0, book.Count);
    }

    [Fact]
    public void CompleteEvaluation_BeforeEverythingIsHandedOut_ReachedLevelsStayFiredAndTrailingStays()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);
        book.AddLevel(2, Fall, 99m);
        book.AddTrailing(3, Fall, null, 1m, 100m);

        Assert.True(book.BeginEvaluation(98m, out _));
        Assert.True(book.TryNextFired(out var first));
        book.CompleteEvaluation();

        Assert.Equal(1L, first);
        Assert.False(book.Contains(2));
        Assert.True(book.Contains(3));
        Assert.Equal(1, book.Count);
        Assert.Equal(0, book.LevelCount);
        Assert.Equal([3L], Eval(book, 98m));
    }

    [Fact]
    public void CountAndContains_DuringEvaluation_LeaveOutWhatHasFired()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);
        book.AddLevel(2, Fall, 99m);
        book.AddLevel(3, Fall, 90m);
        book.AddTrailing(4, Fall, null, 1m, 100m);

        Assert.True(book.BeginEvaluation(99m, out _));
        Assert.Equal(2, book.Count);        // 3, and 4 until it is handed out
        Assert.Equal(1, book.LevelCount);
        Assert.False(book.Contains(1));
        Assert.False(book.Contains(2));
        Assert.Equal([1L, 2L], [.. TakeTwo(book)]);
        Assert.True(book.TryNextFired(out var trailing));
        Assert.Equal(4L, trailing);
        Assert.Equal(1, book.Count);
        Assert.False(book.Contains(4));
        Assert.False(book.TryNextFired(out _));
        book.CompleteEvaluation();
        Assert.Equal(1, book.Count);
    }

    private static IEnumerable<long> TakeTwo(TriggerBook book)
    {
        for (var i = 0; i < 2; i++)
        {
            Assert.True(book.TryNextFired(out var key));
            yield return key;
        }
    }

    [Fact]
    public void Evaluation_OpenOrClosedAtTheWrongTime_Throws()
    {
        var book = new TriggerBook();
        book.AddLevel(1, Fall, 100m);
        book.AddTrailing(2, Fall, 0.5m, null, 100m);

        Assert.Throws<InvalidOperationException>(() => book.TryNextFired(out _));
        Assert.Throws<InvalidOperationException>(() => book.CompleteEvaluation());
        Assert.True(book.BeginEvaluation(100m, out _));
        Assert.Throws<InvalidOperationException>(() => book.BeginEvaluation(99m, out _));
        Assert.Throws<InvalidOperationException>(() => book.Evaluate(99m, []));
        Assert.Throws<InvalidOperationException>(() => book.MoveTrailingExtremes(Fall, 101m));
        book.CompleteEvaluation();
        Assert.Throws<InvalidOperationException>(() => book.CompleteEvaluation());
    }

    // ---- trailing triggers equal only by decimal rounding ----

    [Fact]
    public void Evaluate_TrailingSellRatesRoundedToTheSameTrigger_FireInInsertionOrder()
    {
        // 0.5 * (1 - 0.1000000000000000000000000001) rounds to 0.45, which is 0.5 * (1 - 0.1): the larger
        // rate, added first, fires first although its heap pops the smaller one first.
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, 0.1000000000000000000000000001m, null, 0.5m);
        book.AddTrailing(2, Fall, 0.1m, null, 0.5m);
        book.AddTrailing(3, Fall, 0.1m, null, 0.5m);

        Assert.Equal([1L, 2L, 3L], Eval(book, 0.45m));
    }

    [Fact]
    public void Evaluate_TrailingBuyRatesRoundedToTheSameTrigger_FireInInsertionOrder()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Rise, 0.1000000000000000000000000001m, null, 0.5m);
        book.AddTrailing(2, Rise, 0.1m, null, 0.5m);

        Assert.Equal([1L, 2L], Eval(book, 0.55m));
    }

    [Fact]
    public void Evaluate_TrailingBuyRatesRoundedToTheSameMultiplier_FireInInsertionOrder()
    {
        // 1 + 7.0000000000000000000000000002 and 1 + 7.0000000000000000000000000001 both round to 8.
        var book = new TriggerBook();
        book.AddTrailing(1, Rise, 7.0000000000000000000000000002m, null, 2m);
        book.AddTrailing(2, Rise, 7.0000000000000000000000000001m, null, 2m);

        Assert.Equal([1L, 2L], Eval(book, 16m));
    }

    [Fact]
    public void Evaluate_TrailingAmountsRoundedToTheSameTrigger_FireInInsertionOrder()
    {
        // 1e27 - 0.02 and 1e27 - 0.01 both round to 1e27.
        const decimal extreme = 1_000_000_000_000_000_000_000_000_000m;
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, null, 0.02m, extreme);
        book.AddTrailing(2, Fall, null, 0.01m, extreme);
        book.AddTrailing(3, Fall, null, 0.01m, extreme);

        Assert.Equal([1L, 2L, 3L], Eval(book, extreme - 1m));
    }

    [Fact]
    public void Evaluate_TrailingAtEqualTriggersInSeveralGroupsAndHeaps_FireInInsertionOrder()
    {
        var book = new TriggerBook();
        book.AddTrailing(1, Fall, null, 2m, 100m);      // 98 once at 100
        book.AddTrailing(2, Fall, null, 1m, 99m);       // 98 at 99, a group of its own
        book.AddTrailing(3, Fall, 0.02m, null, 100m);   // 98 once at 100
        book.AddTrailing(4, Fall, null, 2m, 100m);      // 98 once at 100
        book.AddTrailing(5, Fall, 0.01m, null, 99m);    // 98.01 at 99

        Assert.Equal([5L, 1L, 2L, 3L, 4L], Eval(book, 98m));
    }

    // ---- randomized comparison with a reference, acting between hand-outs ----

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void StepwiseEvaluation_RandomChangesBetweenHandOuts_MatchesReference(int seed)
    {
        var random = new Random(seed);
        var book = new TriggerBook();
        var reference = new ReferenceTriggerBook();
        var price = 100.00m;
        long nextKey = 1;
        var keys = new List<long>();
        var evaluations = 0;
        var handedOut = 0;

        for (var step = 0; step < 8000; step++)
        {
            if (!book.IsEvaluating)
            {
                var op = random.Next(100);
                if (op < 30)
                {
                    AddLevel(random, book, reference, keys, ref nextKey, price);
                }
                else if (op < 50)
                {
                    AddTrailing(random, book, reference, keys, ref nextKey, price);
                }
                else if (op < 58)
                {
                    RemoveOne(random, book, reference, keys);
                }
                else if (op < 61)
                {
                    var direction = random.Next(2) == 0 ? Rise : Fall;
                    var target = Math.Max(0.5m, price + (random.Next(-200, 201) / 100m));
                    book.MoveTrailingExtremes(direction, target);
                    reference.MoveTrailingExtremes(direction, target);
                }
                else
                {
                    price = random.Next(30) == 0
                        ? Math.Max(1m, price + (random.Next(-800, 801) / 100m))
                        : Math.Max(1m, price + (random.Next(-40, 41) / 100m));
                    var fires = book.BeginEvaluation(price, out var moves);
                    Assert.Equal(reference.Begin(price, out var expectedMoves), fires);
                    Assert.Equal(expectedMoves, moves);
                    Assert.Equal(fires, book.IsEvaluating);
                    evaluations++;
                }
            }
            else
            {
                var op = random.Next(100);
                if (op < 45)
                {
                    var expected = reference.Next();
                    Assert.Equal(expected is not null, book.TryNextFired(out var key));
                    if (expected is { } k)
                    {
                        Assert.Equal(k, key);
                        handedOut++;
                    }
                    else
                    {
                        book.CompleteEvaluation();
                        reference.Complete();
                    }
                }
                else if (op < 57)
                {
                    AddLevel(random, book, reference, keys, ref nextKey, price);
                }
                else if (op < 65)
                {
                    AddTrailing(random, book, reference, keys, ref nextKey, price);
                }
                else if (op < 80)
                {
                    RemoveOne(random, book, reference, keys);
                }
                else if (op < 88)
                {
                    var key = keys.Count == 0 ? 1 : keys[random.Next(keys.Count)];
                    Assert.Equal(reference.Contains(key), book.Contains(key));
                    Assert.Equal(reference.TrailingExtreme(key), book.TrailingExtreme(key));
                }
                else if (op < 91)
                {
                    Assert.Equal(reference.Count, book.Count);
                    Assert.Equal(reference.LevelCount, book.LevelCount);
                    Assert.Equal(reference.TrailingCount, book.TrailingCount);
                }
                else if (op < 93)
                {
                    book.CompleteEvaluation();
                    reference.Complete();
                }
            }

            if (!book.IsEvaluating)
            {
                Assert.Equal(reference.Count, book.Count);
                if (step % 5 == 0)
                {
                    Assert.Equal(reference.LevelCount, book.LevelCount);
                    Assert.Equal(reference.TrailingCount, book.TrailingCount);
                    foreach (var key in keys)
                    {
                        Assert.Equal(reference.Contains(key), book.Contains(key));
                        Assert.Equal(reference.TrailingExtreme(key), book.TrailingExtreme(key));
                    }
                }
            }
        }

        // The cases this is about must actually happen.
        Assert.True(evaluations > 600, $"{evaluations} evaluations");
        Assert.True(handedOut > 1000, $"{handedOut} handed out");
        Assert.True(reference.PendingLevelsTouched > 80, $"{reference.PendingLevelsTouched} reached levels removed or re-added before their turn");
        Assert.True(reference.PendingTrailingRemoved > 80, $"{reference.PendingTrailingRemoved} reached trailing entries removed before their turn");
        Assert.True(reference.ReachedWhileOpen > 150, $"{reference.ReachedWhileOpen} entries added mid-evaluation at a trigger already reached");
    }

    private static void AddLevel(Random random, TriggerBook book, ReferenceTriggerBook reference, List<long> keys, ref long nextKey, decimal price)
    {
        var key = PickKey(random, reference, keys, ref nextKey);
        var direction = random.Next(2) == 0 ? Rise : Fall;
        // Some at triggers the current price already reaches: added mid-evaluation, they must wait.
        var trigger = Math.Max(0.01m, price + (random.Next(-600, 601) / 100m));
        book.AddLevel(key, direction, trigger);
        reference.AddLevel(key, direction, trigger);
    }

    private static void AddTrailing(Random random, TriggerBook book, ReferenceTriggerBook reference, List<long> keys, ref long nextKey, decimal price)
    {
        var key = PickKey(random, reference, keys, ref nextKey);
        var direction = random.Next(2) == 0 ? Rise : Fall;
        decimal? rate = random.Next(2) == 0 ? random.Next(1, 60) / 1000m : null;
        decimal? amount = rate is null ? random.Next(1, 500) / 100m : null;
        var extreme = random.Next(3) switch
        {
            0 => price,
            1 => reference.AnyTrailingExtreme(random) ?? price,
            _ => Math.Max(0.5m, price + (random.Next(-800, 801) / 100m)),
        };
        book.AddTrailing(key, direction, rate, amount, extreme);
        reference.AddTrailing(key, direction, rate, amount, extreme);
    }

    private static void RemoveOne(Random random, TriggerBook book, ReferenceTriggerBook reference, List<long> keys)
    {
        if (keys.Count == 0)
        {
            return;
        }

        // Mid-evaluation, often one the price reached that is not handed out yet.
        var pending = reference.PendingKeys();
        var key = pending.Count != 0 && random.Next(2) == 0 ? pending[random.Next(pending.Count)] : keys[random.Next(keys.Count)];
        Assert.Equal(reference.Remove(key), book.Remove(key));
    }

    private static long PickKey(Random random, ReferenceTriggerBook reference, List<long> keys, ref long nextKey)
    {
        // Reusing a key that fired or was removed (possibly during this very evaluation) exercises the
        // level heaps' lazily deleted nodes and the settling of reached levels.
        if (keys.Count != 0 && random.Next(3) == 0)
        {
            var pending = reference.PendingKeys();
            var candidate = pending.Count != 0 && random.Next(2) == 0 ? pending[random.Next(pending.Count)] : keys[random.Next(keys.Count)];
            if (!reference.Contains(candidate))
            {
                return candidate;
            }
        }

        var key = nextKey++;
        keys.Add(key);
        return key;
    }

    /// <summary>
    /// Everything in one list, scanned at every price: level entries that the price reaches leave at
    /// once and are handed out whatever happens next; trailing entries it reaches leave when handed
    /// out, unless removed before.
    /// </summary>
}
