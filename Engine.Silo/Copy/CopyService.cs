using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.CopyTrading;
using Engine.Silo.Runtime;
using Microsoft.Extensions.Logging;

namespace Engine.Silo.Copy;

/// <summary>
/// The copy-trading steps that span two shards: a subscription is made on the follower's shard and then
/// registered with the strategy on the leader's; ending it is the reverse; closing a strategy ends every
/// subscription. Each step is a durable command on its own shard and each is idempotent, so a crash between
/// two steps is repaired by <see cref="ReconcileAsync"/> when the engine starts.
/// </summary>
public sealed class CopyService
{
    private readonly EngineSilo _silo;
    private readonly ILogger _log;

    internal CopyService(EngineSilo silo, ILogger log)
    {
        _silo = silo;
        _log = log;
    }

    /// <summary>The strategy's leader, from its id (which carries the leader's account); null for a malformed id.</summary>
    public static AccountId? LeaderOf(StrategyId strategy) => strategy.Leader;

    /// <summary>
    /// Subscribes: checks the strategy is active (404 unknown, 422 strategy_closed), creates the subscription
    /// and its bucket on the follower's shard (the answer the caller gets, rendered there), then registers the
    /// follower with the strategy. If the strategy closed in between, the new subscription ends at once and
    /// the answer is 422 strategy_closed.
    /// </summary>
    public async Task<CommandOutcome> SubscribeAsync(StrategyId strategy, CommandEnvelope envelope)
    {
        var command = (Subscribe)envelope.Command;
        var state = await _silo.QueryAsync(command.Leader, g => g.FindStrategy(strategy)?.Status);
        if (state is null) return Refused(Rejection.NotFound("strategy not found"));
        if (state == StrategyStatus.Closed) return Refused(Rejection.Business("strategy_closed", "the strategy is closed"));

        var outcome = await _silo.SendAsync(envelope);
        // A repeat answered from the idempotency store has no value: the first request registered it (or recovery will).
        if (!outcome.Result.Succeeded || outcome.Result.Value is not SubscriptionId id) return outcome;
        var follower = command.Account;
        var added = await _silo.SendAsync(new CommandEnvelope(new AddCopyFollower(strategy, id, follower, _silo.ShardOf(follower), command.Allocation) { Account = command.Leader }));
        if (added.Result.Succeeded) return outcome;
        await _silo.SendAsync(new CommandEnvelope(new EndSubscription(id, true, CopyReasons.StrategyClosed) { Account = follower }));
        return Refused(added.Result.Rejection!);
    }

    /// <summary>Ends a subscription on the follower's shard, then tells its strategy.</summary>
    public async Task<CommandOutcome> UnsubscribeAsync(CommandEnvelope envelope)
    {
        var command = (EndSubscription)envelope.Command;
        var strategy = await _silo.QueryAsync(command.Account, g => g.FindSubscription(command.Account, command.Subscription)?.Spec.Strategy);
        var outcome = await _silo.SendAsync(envelope);
        if (outcome.Result.Succeeded && strategy is { } s) await RemoveFollowerAsync(s, command.Subscription);
        return outcome;
    }

    /// <summary>Closes a strategy on the leader's shard, then ends every subscription the same way.</summary>
    public async Task<CommandOutcome> CloseStrategyAsync(CommandEnvelope envelope)
    {
        var command = (CloseStrategy)envelope.Command;
        var outcome = await _silo.SendAsync(envelope);
        if (!outcome.Result.Succeeded || outcome.Result.Replayed) return outcome;
        var followers = await _silo.QueryAsync(command.Account, g => g.FindStrategy(command.Strategy)?.Followers.Values.ToArray() ?? []);
        await Task.WhenAll(followers.Select(f => EndForClosedStrategyAsync(command.Strategy, f.Account, f.Subscription, command.ClosePositions)));
        // The answer shows the strategy after its subscriptions ended, not just after the close.
        return envelope.Render is { } render
            ? outcome with { Response = await _silo.QueryAsync(command.Account, g => render(g, outcome.Result)) }
            : outcome;
    }

    private async Task EndForClosedStrategyAsync(StrategyId strategy, AccountId follower, SubscriptionId subscription, bool closePositions)
    {
        var ended = await _silo.SendAsync(new CommandEnvelope(new EndSubscription(subscription, closePositions, CopyReasons.StrategyClosed) { Account = follower }));
        // A position that cannot be closed now (halted, no price) must not keep the subscription alive: the bucket stays, as a manual one.
        if (!ended.Result.Succeeded && closePositions && ended.Result.Rejection?.Code is "symbol_halted" or "no_price")
            ended = await _silo.SendAsync(new CommandEnvelope(new EndSubscription(subscription, false, CopyReasons.StrategyClosed) { Account = follower }));
        if (ended.Result.Succeeded || ended.Result.Rejection?.Code is "subscription_ended" or "not_found")
            await RemoveFollowerAsync(strategy, subscription);
    }

    private Task RemoveFollowerAsync(StrategyId strategy, SubscriptionId subscription) =>
        _silo.SendAsync(new CommandEnvelope(new RemoveCopyFollower(strategy, subscription) { Account = strategy.Leader!.Value }));

    /// <summary>
    /// At start, before serving: finishes what a crash interrupted between two shards. An active subscription
    /// its strategy does not know is registered (or ended, if the strategy closed); a follower whose
    /// subscription ended is removed from its strategy.
    /// </summary>
    internal async Task ReconcileAsync()
    {
        var subscriptions = (await _silo.QueryAllAsync(g => g.Subscriptions
            .Select(s => (s.Account, s.Id, s.Spec.Strategy, s.Spec.Leader, s.Spec.Allocation, Active: s.Status == SubscriptionStatus.Active)).ToArray()))
            .SelectMany(s => s).ToDictionary(s => s.Id);
        var strategies = (await _silo.QueryAllAsync(g => g.Strategies
            .Select(s => (s.Id, s.Status, s.ClosedWithPositions, Followers: s.Followers.Values.ToArray())).ToArray()))
            .SelectMany(s => s).ToDictionary(s => s.Id);
        var work = new List<Task>();
        foreach (var sub in subscriptions.Values.Where(s => s.Active))
        {
            if (!strategies.TryGetValue(sub.Strategy, out var strategy) || strategy.Status == StrategyStatus.Closed)
                work.Add(EndForClosedStrategyAsync(sub.Strategy, sub.Account, sub.Id, strategy.ClosedWithPositions));
            else if (!strategy.Followers.Any(f => f.Subscription == sub.Id))
                work.Add(_silo.SendAsync(new CommandEnvelope(new AddCopyFollower(sub.Strategy, sub.Id, sub.Account, _silo.ShardOf(sub.Account), sub.Allocation) { Account = sub.Leader })));
        }

        foreach (var strategy in strategies.Values)
            foreach (var f in strategy.Followers)
                if (!subscriptions.TryGetValue(f.Subscription, out var sub) || !sub.Active)
                    work.Add(RemoveFollowerAsync(strategy.Id, f.Subscription));
        await Task.WhenAll(work);
        if (work.Count > 0) _log.LogWarning("copy trading: repaired {Count} subscriptions interrupted by a restart", work.Count);
    }

    private static CommandOutcome Refused(Rejection rejection) => new(new CommandResult(rejection, []), null);
}
