using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Engine.Grains;
using Engine.Grains.Plans;
using Engine.Silo.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quartz;
using Quartz.Extensibility;

namespace Engine.Silo.Plans;

/// <summary>
/// Fires the plans' arm, disarm and flatten steps with an in-process Quartz scheduler (RAM store) on the
/// engine's <see cref="TimeProvider"/>. Quartz only decides when: each firing posts a
/// <see cref="RunPlanStep"/> command to the plan's shard, which journals what the step did (or that it
/// no longer applies) before the firing completes. Quartz holds nothing durable: at start the triggers
/// are rebuilt from the plans' state, a step whose moment passed during downtime fires at once, and the
/// domain applies the misfire policy. While running, every committed plan event makes the scheduler
/// re-read that plan and bring its triggers in line (one trigger per pending step of the current occurrence).
/// An arm or flatten that finds no index for its symbol yet (right after a start, before the feed's first
/// tick) waits for one, polling on the engine clock: an arm until its event time (then it is sent and
/// the domain records that the event passed), a flatten until a price comes.
/// </summary>
internal sealed class PlanScheduler : IAsyncDisposable
{
    private const string PlanGroupPrefix = "plan:";
    private static readonly TimeSpan PricePoll = TimeSpan.FromSeconds(1);
    private static readonly JobKey StepJob = new("plan-step", "plans");

    private readonly EngineSilo _silo;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly Channel<(AccountId Account, PlanId Plan)> _changes =
        Channel.CreateUnbounded<(AccountId, PlanId)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(string Cron, string TimeZone), PlanCalendar> _calendars = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _waiting = new();
    private StandaloneSchedulerFactory? _factory;
    private IScheduler? _scheduler;
    private Task _loop = Task.CompletedTask;

    public PlanScheduler(EngineSilo silo, TimeProvider time, ILoggerFactory loggers)
    {
        _silo = silo;
        _time = time;
        _loggers = loggers;
        _log = loggers.CreateLogger("Engine.Plans");
    }

    /// <summary>Starts Quartz with a trigger for every pending step of every open plan; past-due steps fire at once.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        _factory = QuartzSchedulerBuilder.Create(q =>
            {
                q.Services.AddSingleton(_loggers);
                q.UseInMemoryStore()
                    .UseTimeProvider(_time)
                    .UseJobFactory(new StepJobFactory(this))
                    .UseDefaultThreadPool(4)
                    // One process may host several engines (tests do): each scheduler needs its own name.
                    .ConfigureScheduler(o => o.InstanceName = "engine-plans-" + Guid.NewGuid().ToString("N"));
            })
            .Build();
        _scheduler = await _factory.GetScheduler(ct);
        await _scheduler.AddJob(JobBuilder.Create<PlanStepJob>().WithIdentity(StepJob).StoreDurably().Build(), cancellationToken: ct);

        var open = await _silo.QueryAllAsync(g => g.Plans.Where(p => !p.IsFinished).Select(PlanTiming.Of).ToArray());
        var triggers = 0;
        foreach (var timing in open.SelectMany(t => t)) triggers += await ReconcileAsync(timing.Plan, timing, ct);
        await _scheduler.Start(ct);
        _loop = Task.Run(RunAsync, CancellationToken.None);
        _log.LogInformation("plans: scheduler started with {Plans} open plans, {Triggers} steps scheduled", open.Sum(t => t.Length), triggers);
    }

    /// <summary>Called after a commit that journaled an event of the plan (on the shard loop): the plan is re-read.</summary>
    public void Changed(AccountId account, PlanId plan) => _changes.Writer.TryWrite((account, plan));

    /// <summary>The calendar of a recurring plan, parsed once per expression and zone.</summary>
    internal PlanCalendar? CalendarOf(string cron, string timeZone) =>
        _calendars.TryGetValue((cron, timeZone), out var cached)
            ? cached
            : PlanCalendar.Create(cron, timeZone).Calendar is { } calendar ? _calendars.GetOrAdd((cron, timeZone), calendar) : null;

    public async ValueTask DisposeAsync()
    {
        _changes.Writer.TryComplete();
        await _loop;
        // Steps waiting for a price are dropped; nothing of them was journaled, so they fire again after a restart.
        await _stopping.CancelAsync();
        await Task.WhenAll(_waiting.Keys);
        // Waits for running steps: their commands need the shards, which stop after this.
        if (_scheduler is not null) await _scheduler.Shutdown(waitForJobsToComplete: true);
        if (_factory is not null) await _factory.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        await foreach (var (account, plan) in _changes.Reader.ReadAllAsync())
        {
            try
            {
                var timing = await _silo.QueryAsync(account, g => g.FindPlan(account, plan) is { } p ? PlanTiming.Of(p) : null);
                await ReconcileAsync(plan, timing, CancellationToken.None);
            }
            catch (Exception ex)
            {
                _log.LogError(ex, "plans: could not schedule the steps of plan {Plan}", plan);
            }
        }
    }

    /// <summary>Leaves exactly one trigger per pending step of the plan's current occurrence; returns how many it wants.</summary>
    private async Task<int> ReconcileAsync(PlanId plan, PlanTiming? timing, CancellationToken ct)
    {
        var scheduler = _scheduler!;
        var wanted = timing?.PendingSteps() ?? [];
        var keys = wanted.Select(s => KeyOf(plan, timing!.EventAt, s.Step)).ToArray();
        var stale = (await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.GroupEquals(PlanGroupPrefix + plan.Value), ct)).Where(k => !keys.Contains(k)).ToArray();
        if (stale.Length > 0) await scheduler.UnscheduleJobs(stale, ct);
        for (var i = 0; i < wanted.Length; i++)
        {
            var (step, due) = wanted[i];
            var trigger = TriggerBuilder.Create(_time)
                .WithIdentity(keys[i])
                .ForJob(StepJob)
                .StartAt(due)
                // A step whose moment passed (downtime) fires at once; the domain decides what it still does.
                .WithSchedule(SimpleScheduleBuilder.Create().WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
                .UsingJobData(Data.Account, timing!.Account.Value)
                .UsingJobData(Data.Plan, plan.Value)
                .UsingJobData(Data.Symbol, timing.Symbol)
                .UsingJobData(Data.Step, step.ToString())
                .UsingJobData(Data.EventAt, timing.EventAt.ToString("O", CultureInfo.InvariantCulture))
                .UsingJobData(Data.Cron, timing.Cron ?? "")
                .UsingJobData(Data.TimeZone, timing.TimeZone ?? "")
                .Build();
            // Keep: a trigger that is already there (maybe firing right now) is the same step; never fire it twice on purpose.
            await scheduler.ScheduleTrigger(trigger, TriggerConflict.Keep, ct);
        }

        return wanted.Length;
    }

    private static TriggerKey KeyOf(PlanId plan, DateTimeOffset eventAt, PlanStep step) =>
        new($"{step}@{eventAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}", PlanGroupPrefix + plan.Value);

    /// <summary>
    /// A firing: the step's command is sent to the plan's shard, at once or, for a step that needs a price
    /// the engine does not have yet, by a waiter of its own (so that it holds none of Quartz's threads).
    /// </summary>
    private async ValueTask FireAsync(JobDataMap data)
    {
        var firing = new Firing(
            new AccountId(Text(data, Data.Account)),
            new PlanId(Text(data, Data.Plan)),
            Text(data, Data.Symbol),
            Enum.Parse<PlanStep>(Text(data, Data.Step)),
            DateTimeOffset.Parse(Text(data, Data.EventAt), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            Text(data, Data.Cron) is { Length: > 0 } cron ? cron : null,
            Text(data, Data.TimeZone));
        if (firing.Step == PlanStep.Disarm || HasIndex(firing.Symbol))
        {
            await RunStepAsync(firing);
            return;
        }

        var waiter = WaitForPriceAsync(firing);
        _waiting.TryAdd(waiter, 0);
        _ = waiter.ContinueWith(t => _waiting.TryRemove(t, out _), TaskScheduler.Default);
    }

    private bool HasIndex(string symbol) => _silo.Prices.Snapshot(symbol)?.Index is not null;

    private async Task WaitForPriceAsync(Firing firing)
    {
        _log.LogInformation("plans: {Step} of plan {Plan} waits for a {Symbol} price", firing.Step, firing.Plan, firing.Symbol);
        try
        {
            while (!HasIndex(firing.Symbol) && (firing.Step != PlanStep.Arm || _time.GetUtcNow() < firing.EventAt))
                await Task.Delay(PricePoll, _time, _stopping.Token);
            await RunStepAsync(firing);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The engine stops; the step is still pending in the plan and fires again after the restart.
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "plans: {Step} of plan {Plan} failed", firing.Step, firing.Plan);
        }
    }

    /// <summary>Sends the step's command, with the next occurrence of a recurring plan, to the plan's shard.</summary>
    private async Task RunStepAsync(Firing f)
    {
        DateTimeOffset? next = null;
        if (f.Cron is not null)
        {
            var now = _time.GetUtcNow();
            if (CalendarOf(f.Cron, f.TimeZone) is { } calendar)
                next = calendar.NextAfter(now > f.EventAt ? now : f.EventAt);
            else
                _log.LogWarning("plans: the cron '{Cron}' in '{TimeZone}' of plan {Plan} no longer parses; its occurrence ends without a next one", f.Cron, f.TimeZone, f.Plan);
        }

        try
        {
            var outcome = await _silo.SendAsync(new CommandEnvelope(new RunPlanStep(f.Plan, f.Step, f.EventAt, next) { Account = f.Account }));
            if (outcome.Result.Rejection is { } r)
                _log.LogWarning("plans: {Step} of plan {Plan} was refused: {Code} {Detail}", f.Step, f.Plan, r.Code, r.Detail);
        }
        catch (StoreUnavailableException ex)
        {
            // Not journaled, so not done: the step fires again from the rebuilt schedule when the engine restarts.
            _log.LogWarning("plans: {Step} of plan {Plan} could not run: {Message}", f.Step, f.Plan, ex.Message);
        }
    }

    private sealed record Firing(AccountId Account, PlanId Plan, string Symbol, PlanStep Step, DateTimeOffset EventAt, string? Cron, string TimeZone);

    private static string Text(JobDataMap data, string key) =>
        data.TryGetValue(key, out var value) && value is string text ? text : throw new InvalidOperationException($"plan step trigger without {key}");

    private static class Data
    {
        public const string Account = "account";
        public const string Plan = "plan";
        public const string Symbol = "symbol";
        public const string Step = "step";
        public const string EventAt = "eventAt";
        public const string Cron = "cron";
        public const string TimeZone = "timeZone";
    }

    private sealed class StepJobFactory(PlanScheduler owner) : IJobFactory
    {
        public ValueTask<JobScope> CreateJob(TriggerFiredBundle bundle, IScheduler scheduler, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new JobScope(new PlanStepJob(owner), null!));

        public ValueTask ReturnJob(JobScope scope, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }

    /// <summary>The one Quartz job: runs the step named by the firing trigger's data.</summary>
    private sealed class PlanStepJob(PlanScheduler owner) : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
            owner.FireAsync(context.MergedJobDataMap);
    }
}

/// <summary>What the scheduler needs to know of a plan: its current occurrence and the offsets of its steps.</summary>
internal sealed record PlanTiming(AccountId Account, PlanId Plan, string Symbol, PlanStatus Status, DateTimeOffset EventAt, TimeSpan ArmBefore, TimeSpan DisarmAfter,
    TimeSpan? FlattenAfter, string? Cron, string? TimeZone)
{
    public static PlanTiming Of(Plan p) =>
        new(p.Account, p.Id, p.Spec.Symbol, p.Status, p.EventAt, p.Spec.ArmBefore, p.Spec.DisarmAfter, p.Spec.FlattenAfter, p.Spec.Cron, p.Spec.TimeZone);

    /// <summary>
    /// The steps still to run for the current occurrence, with their moments. All of them from the start:
    /// should an arm never run, its disarm and flatten still come and close the occurrence.
    /// </summary>
    public (PlanStep Step, DateTimeOffset Due)[] PendingSteps()
    {
        var steps = new List<(PlanStep, DateTimeOffset)>(3);
        if (Status == PlanStatus.Scheduled) steps.Add((PlanStep.Arm, EventAt - ArmBefore));
        if (Status is PlanStatus.Scheduled or PlanStatus.Armed) steps.Add((PlanStep.Disarm, EventAt + DisarmAfter));
        if (Status is PlanStatus.Scheduled or PlanStatus.Armed or PlanStatus.Disarmed && FlattenAfter is { } flatten) steps.Add((PlanStep.Flatten, EventAt + flatten));
        return steps.ToArray();
    }
}
