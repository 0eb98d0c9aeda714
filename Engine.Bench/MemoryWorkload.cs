using System.Diagnostics;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Bench;

/// <summary>
/// Workload 5: managed bytes per resting order. GC.GetTotalMemory(true) after the accounts and
/// prices exist, and again once the orders rest in the shard (the commands that placed them are
/// garbage by then); the difference over the order count. Engine defaults (ShardOptions), so each
/// account also keeps its recent events, which include the orders' OrderAccepted events.
/// </summary>
internal static class MemoryWorkload
{
    public static void Run(BenchArgs a, Report report)
    {
        Console.WriteLine($"managed bytes per resting order: GC.GetTotalMemory(true) before/after {a.Orders:N0} orders placed with Execute into one ShardGrains "
            + $"({a.Accounts:N0} accounts, default ShardOptions); one repetition per row (the figure is deterministic to a few bytes)");
        var table = new Table("orders", "count", "bytes/order", "trigger entries", "build time", "target");
        var mix = Measure(a.Orders, a.Accounts, a.Seed, null, out var entries, out var took);
        table.Row("mix (as in trigger)", a.Orders, mix.ToString("N0"), entries, $"{took.TotalSeconds:F1} s", "< 400");
        report.Add("memory", "bytes per resting order (mix)", $"{mix:N0} B", "< 400 B", mix < 400);
        // Steady state: every account's bounded event history is already full, so an order's
        // orderAccepted event replaces an older event instead of adding one (reported beside, not instead).
        var steady = Measure(a.Orders, a.Accounts, a.Seed, null, out entries, out took, fillHistories: true);
        table.Row("mix, histories already full", a.Orders, steady.ToString("N0"), entries, $"{took.TotalSeconds:F1} s", "< 400");
        report.Add("memory", "  bytes per resting order (mix), histories already full", $"{steady:N0} B", "< 400 B", steady < 400);
        // Per type on a fifth of the orders over a fifth of the accounts: the same orders per account (the
        // per-account event history is bounded, so that density matters) in a fifth of the time.
        var (typedOrders, typedAccounts) = (Math.Max(1, a.Orders / 5), Math.Max(1, a.Accounts / 5));
        foreach (var kind in OrderMix.AllKinds)
        {
            var bytes = Measure(typedOrders, typedAccounts, a.Seed, kind, out entries, out took);
            table.Row(kind.ToString(), typedOrders, bytes.ToString("N0"), entries, $"{took.TotalSeconds:F1} s", "< 400");
            report.Add("memory", $"  bytes per order: {kind}", $"{bytes:N0} B", "< 400 B", bytes < 400);
        }

        table.Print();
        Console.WriteLine();
        Breakdown(a.Orders, a.Accounts, report);
    }

    private static double Measure(int n, int accounts, int seed, MixKind? only, out int entries, out TimeSpan took, bool fillHistories = false)
    {
        var orders = OrderMix.Generate(n, accounts, seed, only);
        var shard = ShardSetup.NewShard();
        ShardSetup.OpenAccounts(shard, accounts);
        ShardSetup.PrimeQuotes(shard);
        if (fillHistories)
            foreach (var id in ShardSetup.AccountIds(accounts))
                for (var i = 0; i < shard.Options.EventHistory; i++)
                    if (!shard.Execute(new Deposit(1m) { Account = id }, ShardSetup.T0).Succeeded)
                        throw new InvalidOperationException("deposit refused");
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var watch = Stopwatch.StartNew();
        var count = ShardSetup.Place(shard, orders, accounts).Length;
        took = watch.Elapsed;
        // The generated requests are alive in both readings, so they cancel out.
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(orders);
        entries = shard.TriggerCount;
        if (only is null) Console.WriteLine("  sharing in the live-built shard: " + SharingReport.Analyze(shard));
        if (shard.Orders.Count != count) throw new InvalidOperationException($"{count} placed but {shard.Orders.Count} held");
        GC.KeepAlive(shard);
        return (after - before) / (double)count;
    }

    /// <summary>
    /// Where the bytes go: the size of each per-order piece of the engine's own types, measured the
    /// same way on N instances of it alone.
    /// </summary>
    private static void Breakdown(int n, int accounts, Report report)
    {
        Console.WriteLine("breakdown: each per-order piece measured alone (N instances of the engine's types, GC.GetTotalMemory(true) delta / N)");
        var inst = Market.Instruments[0];
        var account = Market.AccountId(0);
        var bucket = BucketId.For(account, 1);
        var spec = new OrderSpec
        {
            Number = 1,
            Bucket = bucket,
            Symbol = inst.Symbol,
            Side = OrderSide.Buy,
            Type = OrderType.Stop,
            Quantity = 0.001m,
            TriggerPrice = 61_000m,
        };
        var table = new Table("piece", "bytes/order", "held by");
        double total = 0;
        void Row(string piece, double bytes, string heldBy, bool sum = true)
        {
            if (sum) total += bytes;
            table.Row(piece, bytes.ToString("N0"), heldBy);
        }

        Row("Order (its trigger-book entry included)", PerItem(n, i => new Order(account, spec, OrderStatus.Untriggered, OrderPhase.Waiting, ShardSetup.T0)), "ShardGrains._orders");
        Row("OrderSpec (a stop: no trailing or extra fields)", PerItem(n, i => spec with { Number = i }), "Order.Spec");
        Row("OrderAccepted event", PerItem(n, i => new OrderAccepted(spec, OrderStatus.Untriggered, OrderPhase.Waiting) { At = ShardSetup.T0, Account = account }),
            "account event history");
        Row("account event history slot", PerHistorySlot(n, accounts), $"Account.Events (bounded {new ShardOptions().EventHistory:N0} per account)");
        Row("_orders Dictionary<long, Order> entry", PerDictionaryEntry(n), "ShardGrains._orders");
        Row("Account.LiveOrders link (two references in the order)", 16, "Account.LiveOrders");
        Row("TriggerBook level entry (heap node)", PerBookEntry(n, trailing: false), "TriggerBook");
        var trailingSpec = PerItem(n, i => spec with { Number = i, Type = OrderType.TrailingStop, TriggerPrice = null, CallbackRate = 0.01m }) - PerItem(n, i => spec with { Number = i });
        var trailingEntry = PerBookEntry(n, trailing: true);
        Row("  trailing stop instead: + TrailingSpec", trailingSpec, "OrderSpec", sum: false);
        Row("  trailing stop instead: TriggerBook trailing entry (pairing-heap node)", trailingEntry, "TriggerBook", sum: false);
        Row("  trailing stop: + TrailingStopActivated event and its history slot", PerItem(n, i => new TrailingStopActivated(i, 60_000m) { At = ShardSetup.T0, Account = account }), "account event history", sum: false);
        table.Print();
        Console.WriteLine($"  sum of the pieces for a stop: {total:N0} bytes");
        report.Add("memory", "  breakdown sum (stop order)", $"{total:N0} B");
    }

    private static double PerItem<T>(int n, Func<int, T> make) where T : class
    {
        var holder = new T[n];
        var before = GC.GetTotalMemory(true);
        for (var i = 0; i < n; i++) holder[i] = make(i);
        var after = GC.GetTotalMemory(true);
        GC.KeepAlive(holder);
        // The holder array was allocated before: only the instances are in the delta.
        return (after - before) / (double)n;
    }

    private static double PerHistorySlot(int n, int accounts)
    {
        var e = new FundsDeposited(1m) { At = ShardSetup.T0, Account = Market.AccountId(0) };
        var bound = new ShardOptions().EventHistory;
        var before = GC.GetTotalMemory(true);
        var logs = new AccountEventLog[accounts];
        for (var a = 0; a < accounts; a++) logs[a] = new AccountEventLog();
        for (var i = 0; i < n; i++) logs[i % accounts].Add(new SequencedEvent(i / accounts + 1, e), bound);
        var after = GC.GetTotalMemory(true);
        GC.KeepAlive(logs);
        return (after - before) / (double)Math.Min(n, (long)accounts * bound);
    }

    private static double PerDictionaryEntry(int n)
    {
        var value = new object();
        var before = GC.GetTotalMemory(true);
        var d = new Dictionary<long, object>();
        for (var i = 0; i < n; i++) d[i] = value;
        var after = GC.GetTotalMemory(true);
        GC.KeepAlive(d);
        return (after - before) / (double)n;
    }


    /// <summary>
    /// A book's own structures per entry, as in a shard: the entries themselves live in the orders
    /// (counted with the Order), so the store here is an array allocated before the measurement.
    /// </summary>
    private static double PerBookEntry(int n, bool trailing)
    {
        var store = new PreallocatedEntries(n);
        var before = GC.GetTotalMemory(true);
        var book = new TriggerBook(store);
        for (var i = 0; i < n; i++)
        {
            if (trailing) book.AddTrailing(i, TriggerDirection.Fall, 0.01m + (i % 100) / 10_000m, null, 60_000m);
            else book.AddLevel(i, (i & 1) == 0 ? TriggerDirection.Rise : TriggerDirection.Fall, 60_000m + (i % 5000));
        }

        var after = GC.GetTotalMemory(true);
        GC.KeepAlive(book);
        GC.KeepAlive(store);
        return (after - before) / (double)n;
    }

    /// <summary>Entries of keys 0 .. n-1 in an array, as the shard keeps them in its orders.</summary>
    private sealed class PreallocatedEntries(int n) : ITriggerEntryStore
    {
        private readonly TriggerEntry?[] _entries = new TriggerEntry?[n];
        private int _books;
        private long _nextSeq;

        public int RegisterBook() => ++_books;

        public long NextSeq() => _nextSeq++;

        public long IssuedSeqs => _nextSeq;

        public bool TryGet(long key, out TriggerEntry entry)
        {
            entry = _entries[key].GetValueOrDefault();
            return _entries[key].HasValue;
        }

        public bool TryAdd(long key, TriggerEntry entry)
        {
            if (_entries[key].HasValue) return false;
            _entries[key] = entry;
            return true;
        }

        public bool TryRemove(long key, int book, out TriggerEntry removed)
        {
            removed = _entries[key].GetValueOrDefault();
            if (!_entries[key].HasValue || removed.Book != book) return false;
            _entries[key] = null;
            return true;
        }
    }
}
