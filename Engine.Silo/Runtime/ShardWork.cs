using System.Diagnostics;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Silo.Telemetry;

namespace Engine.Silo.Runtime;

/// <summary>One item of a shard's mailbox: it runs on the shard loop, and completes after the batch commit.</summary>
internal abstract class ShardWork
{
    /// <summary>Runs against the shard's grains; events it produces go to <paramref name="events"/>.</summary>
    public abstract void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events);

    /// <summary>Answers the caller once the batch is durable, or with the failure that prevented it.</summary>
    public abstract void Complete(Exception? failure);
}

internal sealed class CommandWork(CommandEnvelope envelope) : ShardWork
{
    private readonly TaskCompletionSource<CommandOutcome> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CommandOutcome? _outcome;
    private Exception? _error;

    public Task<CommandOutcome> Task => _done.Task;

    public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events)
    {
        try
        {
            var command = envelope.Command;
            if (envelope.Idempotency is { } idem && grains.FindAccount(command.Account) is { } account
                && account.Idempotency.TryGetValue(idem.Key, out var stored))
            {
                _outcome = stored.BodyHash == idem.BodyHash
                    ? new CommandOutcome(new CommandResult(null, [], null, Replayed: true), null, new StoredResponse(stored.Status, stored.Body))
                    : new CommandOutcome(new CommandResult(new Rejection(RejectionKind.Conflict, "duplicate_client_order_id",
                        "this Idempotency-Key was used with another request"), []), null);
                return;
            }

            var result = grains.Execute(command, now, events);
            var response = result.Succeeded && envelope.Render is { } render ? render(grains, result) : null;
            if (result.Succeeded && !result.Replayed && envelope.Idempotency is { } key)
            {
                var record = new RecordIdempotentResponse(key.Key, key.BodyHash, key.SuccessStatus, key.Serialize(response)) { Account = command.Account };
                grains.Execute(record, now, events);
            }

            _outcome = new CommandOutcome(result, response);
        }
        catch (Exception ex)
        {
            _error = ex;
        }
    }

    public override void Complete(Exception? failure)
    {
        if (failure is not null) _done.TrySetException(failure);
        else if (_error is not null) _done.TrySetException(_error);
        else _done.TrySetResult(_outcome!);
    }
}

internal sealed class QueryWork<T>(Func<ShardGrains, T> query) : ShardWork
{
    private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _value;
    private Exception? _error;

    public Task<T> Task => _done.Task;

    public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events)
    {
        try
        {
            _value = query(grains);
        }
        catch (Exception ex)
        {
            _error = ex;
        }
    }

    public override void Complete(Exception? failure)
    {
        if ((failure ?? _error) is { } error) _done.TrySetException(error);
        else _done.TrySetResult(_value!);
    }
}

internal sealed class PriceWork(string symbol, Quote quote) : ShardWork
{
    // When the tick reached the engine, for the tick-to-trigger latency (only while someone listens: the tick path).
    private readonly long _arrived = EngineTelemetry.TickToTrigger.Enabled ? Stopwatch.GetTimestamp() : 0;

    public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events)
    {
        var before = events.Count;
        grains.OnPrices(symbol, quote, now, events);
        if (events.Count == before || (_arrived == 0 && !EngineTelemetry.TriggersFired.Enabled)) return;
        var fired = 0;
        for (var i = before; i < events.Count; i++)
            if (events[i] is OrderTriggered) fired++;
        if (fired == 0) return;
        if (_arrived != 0) EngineTelemetry.TickToTrigger.Record(Stopwatch.GetElapsedTime(_arrived).TotalSeconds);
        EngineTelemetry.TriggersFired.Add(fired, new KeyValuePair<string, object?>("symbol", symbol));
    }

    public override void Complete(Exception? failure)
    {
    }
}

internal sealed class TimeWork : ShardWork
{
    public static TimeWork Instance { get; } = new();

    public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events) =>
        grains.AdvanceTime(now, events);

    public override void Complete(Exception? failure)
    {
    }
}

/// <summary>
/// A symbol's halt (or resume, when <see cref="Halt"/> is null) as the price service decided it; every
/// shard gets one. Completes after the batch commit, so an operator is answered once it is durable.
/// </summary>
internal sealed class HaltWork(string symbol, Engine.Grains.Risk.SymbolHalt? halt, string resumeReason) : ShardWork
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _error;

    public Task Task => _done.Task;

    public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events)
    {
        try
        {
            grains.SetSymbolHalt(symbol, halt, resumeReason, now, events);
        }
        catch (Exception ex)
        {
            _error = ex;
        }
    }

    public override void Complete(Exception? failure)
    {
        if ((failure ?? _error) is { } error) _done.TrySetException(error);
        else _done.TrySetResult();
    }
}
