using System.Reflection;
using System.Text.Json.Serialization;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Plans;
using Engine.Grains.Risk;
using Engine.Silo.Persistence.Postgres;
using Engine.Silo.Runtime;
using Engine.Silo.Serialization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Engine.Silo.History;

/// <summary>
/// Feeds the history read model from the journal in PostgreSQL. Per shard it reads the records after its
/// checkpoint, turns their events into order, fill and plan rows, and writes the rows and the new checkpoint
/// in one transaction: a crash repeats nothing and loses nothing, and emptying the tables and checkpoints
/// rebuilds the model from the journal. Orders change by the same <see cref="Order"/> methods the shards use.
/// </summary>
public sealed class HistoryProjector : IAsyncDisposable
{
    /// <summary>Journal rows (group commits) taken per shard per transaction.</summary>
    private const int BatchRows = 64;

    private static readonly Dictionary<Type, string> TypeNames = typeof(EngineEvent)
        .GetCustomAttributes<JsonDerivedTypeAttribute>()
        .ToDictionary(a => a.DerivedType, a => (string)a.TypeDiscriminator!);

    private readonly NpgsqlDataSource _db;
    private readonly long[] _checkpoints;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _waitersLock = new();
    private readonly List<(int Shard, long Sequence, TaskCompletionSource Done)> _waiters = [];
    private Task _loop = Task.CompletedTask;

    private HistoryProjector(NpgsqlDataSource db, long[] checkpoints, ILogger log)
    {
        _db = db;
        _checkpoints = checkpoints;
        _log = log;
    }

    /// <summary>Loads the checkpoints and starts projecting in the background.</summary>
    public static async Task<HistoryProjector> StartAsync(NpgsqlDataSource db, int shards, ILogger log, CancellationToken ct = default)
    {
        var checkpoints = new long[shards];
        await using (var command = db.CreateCommand("SELECT shard, sequence FROM history_checkpoints"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                if (reader.GetInt32(0) is var shard && shard < shards) checkpoints[shard] = reader.GetInt64(1);
        var projector = new HistoryProjector(db, checkpoints, log);
        projector._loop = Task.Run(projector.RunAsync, CancellationToken.None);
        return projector;
    }

    /// <summary>The journal sequence of <paramref name="shard"/> the read model has taken in.</summary>
    public long Checkpoint(int shard) => Volatile.Read(ref _checkpoints[shard]);

    /// <summary>Something was journaled: look now rather than at the next poll.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already awake.
            }
        }
    }

    /// <summary>Completes once the read model holds everything of <paramref name="shard"/>'s journal up to <paramref name="sequence"/>.</summary>
    public Task WaitForAsync(int shard, long sequence, CancellationToken ct)
    {
        if (Checkpoint(shard) >= sequence) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersLock) _waiters.Add((shard, sequence, done));
        if (Checkpoint(shard) >= sequence) Release();
        Wake();
        return done.Task.WaitAsync(ct);
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        var failures = 0;
        while (!token.IsCancellationRequested)
        {
            var progressed = false;
            try
            {
                for (var shard = 0; shard < _checkpoints.Length; shard++)
                    progressed |= await ProjectAsync(shard, token);
                failures = 0;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store is down or a record is bad: nothing was half-written (one transaction); try again.
                failures++;
                if (failures == 1 || failures % 60 == 0) _log.LogWarning(ex, "history projection failed ({Failures} in a row); retrying", failures);
                await DelayAsync(TimeSpan.FromSeconds(Math.Min(5, failures)), token);
                continue;
            }

            if (!progressed) await WaitAsync(token);
        }
    }

    private async Task WaitAsync(CancellationToken token)
    {
        try
        {
            // A poll as well as the wake-up: another node, or a record that came without a wake, is seen soon.
            await _wake.WaitAsync(TimeSpan.FromSeconds(1), token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Projects the next records of one shard; false when there were none.</summary>
    private async Task<bool> ProjectAsync(int shard, CancellationToken ct)
    {
        var after = Checkpoint(shard);
        await using var connection = await _db.OpenConnectionAsync(ct);
        var records = new List<(long Sequence, byte[] Payload, EngineEvent Event)>();
        await using (var read = new NpgsqlCommand(
            "SELECT first_sequence, last_sequence, records FROM journal WHERE shard = $1 AND first_sequence >= " + JournalRows.FirstRowHolding +
            " ORDER BY first_sequence LIMIT $3", connection))
        {
            read.Parameters.Add(new NpgsqlParameter<int> { TypedValue = shard });
            read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after });
            read.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchRows });
            await using var reader = await read.ExecuteReaderAsync(ct);
            var expected = after + 1;
            while (await reader.ReadAsync(ct))
            {
                foreach (var record in JournalRows.Split((byte[])reader.GetValue(2), reader.GetInt64(0), reader.GetInt64(1), $"history, shard {shard}"))
                {
                    if (record.Sequence < expected) continue;
                    if (record.Sequence != expected) throw new InvalidDataException($"history, shard {shard}: journal record {expected} is missing");
                    var payload = record.Payload.ToArray();
                    records.Add((record.Sequence, payload, JournalEventCodec.Deserialize(payload)));
                    expected++;
                }
            }
        }

        if (records.Count == 0) return false;
        var batch = new Batch(shard);
        await batch.LoadOrdersAsync(connection, records.Select(r => r.Event), ct);
        foreach (var (sequence, payload, e) in records) batch.Apply(sequence, payload, e, _log);

        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            // The read model is derived: a crash may lose its last commits, but never half of one (the rows and the
            // checkpoint commit together), and it re-projects them. So it does not wait for the WAL flush, which
            // would compete with the journal's own commits (those stay synchronous).
            await using (var asynchronous = new NpgsqlCommand("SET LOCAL synchronous_commit = off", connection, transaction))
                await asynchronous.ExecuteNonQueryAsync(ct);
            await batch.WriteAsync(connection, transaction, ct);
            await using (var checkpoint = new NpgsqlCommand(
                "INSERT INTO history_checkpoints (shard, sequence) VALUES ($1, $2) ON CONFLICT (shard) DO UPDATE SET sequence = excluded.sequence",
                connection, transaction))
            {
                checkpoint.Parameters.Add(new NpgsqlParameter<int> { TypedValue = shard });
                checkpoint.Parameters.Add(new NpgsqlParameter<long> { TypedValue = records[^1].Sequence });
                await checkpoint.ExecuteNonQueryAsync(ct);
            }

            await transaction.CommitAsync(ct);
        }

        Volatile.Write(ref _checkpoints[shard], records[^1].Sequence);
        Release();
        return true;
    }

    private void Release()
    {
        lock (_waitersLock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var (shard, sequence, done) = _waiters[i];
                if (Checkpoint(shard) < sequence) continue;
                done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        lock (_waitersLock)
        {
            foreach (var (_, _, done) in _waiters) done.TrySetException(new StoreUnavailableException("the engine is stopping"));
            _waiters.Clear();
        }

        _stop.Dispose();
        _wake.Dispose();
    }

    /// <summary>The rows one projection transaction writes.</summary>
    private sealed class Batch(int shard)
    {
        private readonly Dictionary<(string Account, long Number), (Order Order, byte[] Accepted)> _orders = [];
        private readonly List<FillHistoryRow> _fills = [];
        private readonly List<PlanHistoryRow> _plans = [];
        private readonly List<CopyOutcomeRow> _copies = [];

        /// <summary>Loads the current rows of the orders these events change but did not create.</summary>
        public async Task LoadOrdersAsync(NpgsqlConnection connection, IEnumerable<EngineEvent> events, CancellationToken ct)
        {
            var created = new HashSet<(string, long)>();
            var wanted = new HashSet<(string, long)>();
            foreach (var e in events)
            {
                if (e is OrderAccepted a) created.Add((a.Account.Value, a.Order.Number));
                else if (e is AccountEvent ae && OrderOf(ae) is { } number && !created.Contains((ae.Account.Value, number)))
                    wanted.Add((ae.Account.Value, number));
            }

            if (wanted.Count == 0) return;
            await using var command = new NpgsqlCommand(
                $"SELECT {HistoryOrders.Columns} FROM history_orders WHERE (account_id, number) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))",
                connection);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = wanted.Select(w => w.Item1).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = wanted.Select(w => w.Item2).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var row = HistoryOrders.Read(reader);
                _orders[(row.AccountId, row.Number)] = (HistoryOrders.ToOrder(row), row.Accepted);
            }
        }

        public void Apply(long sequence, byte[] payload, EngineEvent e, ILogger log)
        {
            if (e is not AccountEvent ae) return;
            var account = ae.Account.Value;
            switch (ae)
            {
                case OrderAccepted a:
                    _orders[(account, a.Order.Number)] = (new Order(a.Account, a.Order, a.Status, a.Phase, a.At), payload);
                    return;
                case PositionLiquidated liq:
                    _fills.Add(new FillHistoryRow
                    {
                        AccountId = account, Number = liq.Fill, OrderNumber = null, BucketId = liq.Bucket.Value, Symbol = liq.Symbol,
                        Side = (short)(liq.Quantity > 0 ? OrderSide.Sell : OrderSide.Buy), Quantity = Math.Abs(liq.Quantity), Price = liq.Price,
                        Fee = 0m, RealizedPnl = liq.RealizedPnl, Liquidity = (short)Liquidity.Liquidation, At = liq.At,
                    });
                    return;
                case CopyOutcomeRecorded o:
                    _copies.Add(new CopyOutcomeRow
                    {
                        AccountId = account, SubscriptionId = o.Subscription.Value, Sequence = o.Sequence, Kind = (short)o.Kind, Symbol = o.Symbol,
                        LeaderQuantity = o.LeaderQuantity, Quantity = o.Quantity, Outcome = (short)o.Outcome, Reason = o.Reason,
                        OrderNumber = o.Order, LeaderOrder = o.LeaderOrder, At = o.At,
                    });
                    return;
                case PlanEvent plan:
                    _plans.Add(new PlanHistoryRow
                    {
                        Shard = shard, Sequence = sequence, AccountId = account, PlanId = plan.Plan.Value,
                        Type = TypeNames.GetValueOrDefault(plan.GetType(), plan.GetType().Name), At = plan.At,
                        Detail = System.Text.Encoding.UTF8.GetString(EventJson.Serialize(plan)),
                    });
                    return;
            }

            if (OrderOf(ae) is not { } number) return;
            if (!_orders.TryGetValue((account, number), out var entry))
            {
                log.LogWarning("history: {Event} for order {Account}-o{Number}, which the read model does not hold", ae.GetType().Name, account, number);
                return;
            }

            var order = entry.Order;
            switch (ae)
            {
                case OrderActivated act:
                    order.Activate(act.Quantity, act.TriggerPrice, act.Price, act.Phase, act.At);
                    break;
                case TrailingStopActivated ts:
                    order.EnterPhase(OrderPhase.Trailing, ts.At);
                    break;
                case TriggerConfirmationStarted s:
                    order.EnterPhase(OrderPhase.Confirming, s.At);
                    break;
                case TriggerConfirmationFailed f:
                    order.EnterPhase(OrderPhase.Waiting, f.At);
                    break;
                case OrderTriggered tr:
                    order.Trigger(tr.Price, tr.At);
                    break;
                case OrderConvertedToMarket m:
                    order.ConvertToMarket(m.At);
                    break;
                case OrderAmended am:
                    order.Amend(am.Quantity, am.Price, am.TriggerPrice, am.CallbackRate, am.CallbackAmount, am.At);
                    break;
                case OrderFilled f:
                    if (order.AddFill(f)) order.Finish(OrderStatus.Filled, null, f.At);
                    _fills.Add(new FillHistoryRow
                    {
                        AccountId = account, Number = f.Fill, OrderNumber = number, BucketId = order.Bucket.Value, Symbol = order.Symbol,
                        Side = (short)order.Side, Quantity = f.Quantity, Price = f.Price, Fee = f.Fee, RealizedPnl = f.RealizedPnl,
                        Liquidity = (short)f.Liquidity, At = f.At,
                    });
                    break;
                case OrderCancelled c:
                    order.Finish(OrderStatus.Cancelled, c.Reason, c.At);
                    break;
                case OrderExpired x:
                    order.Finish(OrderStatus.Expired, x.Reason, x.At);
                    break;
                case OrderRejected r:
                    order.Finish(OrderStatus.Rejected, r.Reason, r.At);
                    break;
            }
        }

        /// <summary>The order an event changes, for the events that change one.</summary>
        private static long? OrderOf(AccountEvent e) => e is IOrderEvent o ? o.Order : null;

        public async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
        {
            if (_orders.Count > 0) await HistoryOrders.UpsertAsync(connection, transaction, _orders.Values, ct);
            if (_fills.Count > 0) await InsertFillsAsync(connection, transaction, ct);
            if (_plans.Count > 0) await InsertPlansAsync(connection, transaction, ct);
            if (_copies.Count > 0) await InsertCopiesAsync(connection, transaction, ct);
        }

        private async Task InsertCopiesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand(
                "INSERT INTO history_copy_outcomes (account_id, subscription_id, sequence, kind, symbol, leader_quantity, quantity, outcome, reason, " +
                "order_number, leader_order, at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::smallint[], $5::text[], $6::numeric[], " +
                "$7::numeric[], $8::smallint[], $9::text[], $10::bigint[], $11::bigint[], $12::timestamptz[]) ON CONFLICT DO NOTHING", connection, transaction);
            var p = command.Parameters;
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _copies.Select(c => c.AccountId).ToArray() });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _copies.Select(c => c.SubscriptionId).ToArray() });
            p.Add(new NpgsqlParameter<long[]> { TypedValue = _copies.Select(c => c.Sequence).ToArray() });
            p.Add(new NpgsqlParameter<short[]> { TypedValue = _copies.Select(c => c.Kind).ToArray() });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _copies.Select(c => c.Symbol).ToArray() });
            p.Add(new NpgsqlParameter<decimal[]> { TypedValue = _copies.Select(c => c.LeaderQuantity).ToArray() });
            p.Add(new NpgsqlParameter<decimal[]> { TypedValue = _copies.Select(c => c.Quantity).ToArray() });
            p.Add(new NpgsqlParameter<short[]> { TypedValue = _copies.Select(c => c.Outcome).ToArray() });
            p.Add(new NpgsqlParameter<string?[]> { TypedValue = _copies.Select(c => c.Reason).ToArray() });
            p.Add(new NpgsqlParameter<long?[]> { TypedValue = _copies.Select(c => c.OrderNumber).ToArray() });
            p.Add(new NpgsqlParameter<long?[]> { TypedValue = _copies.Select(c => c.LeaderOrder).ToArray() });
            p.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = _copies.Select(c => c.At).ToArray() });
            await command.ExecuteNonQueryAsync(ct);
        }

        private async Task InsertFillsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand(
                "INSERT INTO history_fills (account_id, number, order_number, bucket_id, symbol, side, quantity, price, fee, realized_pnl, liquidity, at) " +
                "SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::smallint[], $7::numeric[], $8::numeric[], " +
                "$9::numeric[], $10::numeric[], $11::smallint[], $12::timestamptz[]) ON CONFLICT DO NOTHING", connection, transaction);
            var p = command.Parameters;
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _fills.Select(f => f.AccountId).ToArray() });
            p.Add(new NpgsqlParameter<long[]> { TypedValue = _fills.Select(f => f.Number).ToArray() });
            p.Add(new NpgsqlParameter<long?[]> { TypedValue = _fills.Select(f => f.OrderNumber).ToArray() });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _fills.Select(f => f.BucketId).ToArray() });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _fills.Select(f => f.Symbol).ToArray() });
            p.Add(new NpgsqlParameter<short[]> { TypedValue = _fills.Select(f => f.Side).ToArray() });
            p.Add(new NpgsqlParameter<decimal[]> { TypedValue = _fills.Select(f => f.Quantity).ToArray() });
            p.Add(new NpgsqlParameter<decimal[]> { TypedValue = _fills.Select(f => f.Price).ToArray() });
            p.Add(new NpgsqlParameter<decimal[]> { TypedValue = _fills.Select(f => f.Fee).ToArray() });
            p.Add(new NpgsqlParameter<decimal[]> { TypedValue = _fills.Select(f => f.RealizedPnl).ToArray() });
            p.Add(new NpgsqlParameter<short[]> { TypedValue = _fills.Select(f => f.Liquidity).ToArray() });
            p.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = _fills.Select(f => f.At).ToArray() });
            await command.ExecuteNonQueryAsync(ct);
        }

        private async Task InsertPlansAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand(
                "INSERT INTO history_plan_events (shard, sequence, account_id, plan_id, type, at, detail) " +
                "SELECT * FROM unnest($1::integer[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[]) ON CONFLICT DO NOTHING",
                connection, transaction);
            var p = command.Parameters;
            p.Add(new NpgsqlParameter<int[]> { TypedValue = _plans.Select(r => r.Shard).ToArray() });
            p.Add(new NpgsqlParameter<long[]> { TypedValue = _plans.Select(r => r.Sequence).ToArray() });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _plans.Select(r => r.AccountId).ToArray() });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _plans.Select(r => r.PlanId).ToArray() });
            p.Add(new NpgsqlParameter<string[]> { TypedValue = _plans.Select(r => r.Type).ToArray() });
            p.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = _plans.Select(r => r.At).ToArray() });
            p.Add(new NpgsqlParameter { Value = _plans.Select(r => r.Detail).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
