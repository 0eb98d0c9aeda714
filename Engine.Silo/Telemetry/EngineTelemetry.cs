using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Engine.Silo.Telemetry;

/// <summary>
/// The engine's traces and metrics (DESIGN.md section 9). Instruments are static so the shard loops record
/// with no lookup; the OpenTelemetry SDK in the host subscribes to <see cref="Name"/>. When nothing listens,
/// recording costs a branch.
/// </summary>
public static class EngineTelemetry
{
    /// <summary>The name of both the ActivitySource and the Meter.</summary>
    public const string Name = "Engine";

    public static readonly ActivitySource Source = new(Name, typeof(EngineTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(EngineTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>From a tick's arrival at the engine to the shard acting on the first order it fired, in seconds.</summary>
    public static readonly Histogram<double> TickToTrigger = Meter.CreateHistogram<double>(
        "engine.trigger.latency", "s", "Time from a price tick's arrival to the first order it triggered");

    /// <summary>Conditional orders fired by price (tag <c>symbol</c>).</summary>
    public static readonly Counter<long> TriggersFired = Meter.CreateCounter<long>(
        "engine.triggers.fired", "{order}", "Conditional orders triggered");

    /// <summary>Events in one group commit.</summary>
    public static readonly Histogram<long> JournalBatchSize = Meter.CreateHistogram<long>(
        "engine.journal.batch.size", "{event}", "Events journaled by one group commit");

    /// <summary>One group commit's append, until durable, in seconds.</summary>
    public static readonly Histogram<double> JournalCommitLatency = Meter.CreateHistogram<double>(
        "engine.journal.commit.duration", "s", "Time to make one group commit durable");

    /// <summary>From a leader's fill to the last follower's recorded outcome of its signal, in seconds.</summary>
    public static readonly Histogram<double> CopyFanOutLatency = Meter.CreateHistogram<double>(
        "engine.copy.fanout.duration", "s", "Time from a leader fill to the last follower outcome of its signal");

    /// <summary>Copy outcomes per follower (tags <c>outcome</c>: copied, scaledDown, skipped; <c>reason</c> when skipped).</summary>
    public static readonly Counter<long> CopyOutcomes = Meter.CreateCounter<long>(
        "engine.copy.outcomes", "{outcome}", "Copy outcomes recorded for followers, by outcome and reason");

    private static readonly Lock MailboxesLock = new();
    private static ImmutableList<Func<IEnumerable<Measurement<int>>>> _mailboxes = [];

    /// <summary>Work items waiting in each shard's mailbox (tag <c>shard</c>), over every running silo of the process.</summary>
    public static readonly ObservableGauge<int> MailboxDepth = Meter.CreateObservableGauge(
        "engine.shard.mailbox.depth", () => _mailboxes.SelectMany(m => m()), "{item}", "Work items waiting in a shard's mailbox");

    /// <summary>Adds a silo's mailboxes to <see cref="MailboxDepth"/> until the returned handle is disposed.</summary>
    public static IDisposable ObserveMailboxes(Func<IEnumerable<Measurement<int>>> observe)
    {
        lock (MailboxesLock) _mailboxes = _mailboxes.Add(observe);
        return new Registration(observe);
    }

    private sealed class Registration(Func<IEnumerable<Measurement<int>>> observe) : IDisposable
    {
        public void Dispose()
        {
            lock (MailboxesLock) _mailboxes = _mailboxes.Remove(observe);
        }
    }
}
