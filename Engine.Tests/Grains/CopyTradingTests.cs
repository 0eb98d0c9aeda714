using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Risk;
using static Engine.Tests.Grains.CopyTestKit;

namespace Engine.Tests.Grains;

public sealed class CopyTradingTests
{
    /// <summary>A leader on shard 0 and a follower on shard 1, BTC at 50,000.</summary>
    private static (CopyTestKit Kit, AccountId Leader, AccountId Follower, StrategyId Strategy) Setup(int followerShard = 1)
    {
        var kit = new CopyTestKit();
        var leader = kit.Open("leader", 0);
        var follower = kit.Open("follower", followerShard, manual: 0m);
        kit.Price(50_000m);
        var strategy = kit.Publish(leader);
        return (kit, leader, follower, strategy);
    }

    [Fact]
    public void PublishStrategy_OnCopyBucket_IsRejected()
    {
        var (kit, _, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 1_000m, Settings());
        var result = kit.Execute(new PublishStrategy(sub.Spec.Bucket, "chain", null) { Account = follower });
        GrainTestKit.AssertRejected(result, RejectionKind.Business, "bucket_not_allowed");
    }

    [Fact]
    public void PublishStrategy_SecondOnSameBucket_IsRejected()
    {
        var (kit, leader, _, _) = Setup();
        var result = kit.Execute(new PublishStrategy(kit.ManualOf(leader), "again", null) { Account = leader });
        GrainTestKit.AssertRejected(result, RejectionKind.Business, "strategy_exists");
    }

    [Fact]
    public void Subscribe_MovesAllocationIntoNewCopyBucket()
    {
        var (kit, _, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 2_500m, Settings());
        var account = kit.ShardOf(follower).FindAccount(follower)!;
        Assert.Equal(97_500m, account.WalletBalance);
        var bucket = account.FindBucket(sub.Spec.Bucket)!;
        Assert.Equal((BucketKind.Copy, 2_500m), (bucket.Kind, bucket.Balance));
        var s = kit.Shards[0].FindStrategy(strategy)!;
        Assert.Equal((1, 2_500m), (s.Followers.Count, s.Allocated));
    }

    [Fact]
    public void Subscribe_OwnStrategy_IsRejected()
    {
        var (kit, leader, _, strategy) = Setup();
        var result = kit.Execute(new Subscribe(strategy, leader, 100m, Settings(), null, null) { Account = leader });
        GrainTestKit.AssertRejected(result, RejectionKind.Business, "self_subscription");
    }

    [Theory]
    [InlineData(CopySizingMode.FixedRatio, "0.5", null, "0.05")]
    [InlineData(CopySizingMode.FixedNotional, null, "1000", "0.02")]
    [InlineData(CopySizingMode.EquityRatio, null, null, "0.05")]
    public void LeaderFill_SizingMode_FollowerOrderSized(CopySizingMode mode, string? ratio, string? notional, string expected)
    {
        var (kit, leader, follower, strategy) = Setup();
        // Equity ratio: the follower's 5,000 over the leader's 10,000.
        var sub = kit.Subscribe(follower, strategy, 5_000m, new CopySettings
        {
            Mode = mode,
            Ratio = ratio is null ? null : decimal.Parse(ratio, System.Globalization.CultureInfo.InvariantCulture),
            Notional = notional is null ? null : decimal.Parse(notional, System.Globalization.CultureInfo.InvariantCulture),
        });

        kit.Market(leader, OrderSide.Buy, 0.1m);

        var outcome = kit.LastOutcome(sub);
        Assert.Equal((1L, CopyOutcome.Copied, decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture)), (outcome.Sequence, outcome.Outcome, outcome.Quantity));
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), kit.Held(follower, sub.Spec.Bucket));
        kit.AssertReplayAndSnapshotMatch();
    }

    [Fact]
    public void LeaderFill_RoundsDownToLotStep()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.333m));
        kit.Market(leader, OrderSide.Buy, 0.1m);
        // 0.0333 on a 0.001 lot step.
        Assert.Equal(0.033m, kit.Held(follower, sub.Spec.Bucket));
        Assert.Equal(CopyOutcome.Copied, kit.LastOutcome(sub).Outcome);
    }

    [Fact]
    public void LeaderPartialClose_ScaledFollower_ClosesSameFractionOfOwnPosition()
    {
        var (kit, leader, follower, strategy) = Setup();
        // The follower copies at 30% of the leader's size.
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.3m));
        kit.Market(leader, OrderSide.Buy, 1m);
        Assert.Equal(0.3m, kit.Held(follower, sub.Spec.Bucket));

        // The leader closes 40% of its position: the follower closes 40% of its own.
        kit.Market(leader, OrderSide.Sell, 0.4m);

        var outcome = kit.LastOutcome(sub);
        Assert.Equal((CopyOutcome.Copied, 0.12m), (outcome.Outcome, outcome.Quantity));
        Assert.Equal(0.18m, kit.Held(follower, sub.Spec.Bucket));
        Assert.Equal(0.6m, kit.Held(leader, kit.ManualOf(leader)));
        kit.AssertReplayAndSnapshotMatch();
    }

    [Fact]
    public void LeaderPartialClose_FollowerScaledDownByMargin_StaysProportional()
    {
        var (kit, leader, follower, strategy) = Setup();
        // 1,600 USDT at 10x buys about 0.319 BTC: the follower gets about 30% of the leader's 1 BTC.
        var sub = kit.Subscribe(follower, strategy, 1_600m, Settings(ratio: 1m));
        kit.Market(leader, OrderSide.Buy, 1m);
        var opened = kit.LastOutcome(sub);
        Assert.Equal((CopyOutcome.ScaledDown, CopyReasons.InsufficientMargin), (opened.Outcome, opened.Reason));
        var held = kit.Held(follower, sub.Spec.Bucket);
        Assert.InRange(held, 0.3m, 0.32m);

        kit.Market(leader, OrderSide.Sell, 0.4m);

        Assert.Equal(held - decimal.Floor(held * 0.4m * 1000m) / 1000m, kit.Held(follower, sub.Spec.Bucket));
    }

    [Fact]
    public void TwoLeaders_OneLiquidated_OtherLeadersNextSignalCopiedInFull()
    {
        var kit = new CopyTestKit();
        var a = kit.Open("leader-a", 0);
        var b = kit.Open("leader-b", 0);
        var follower = kit.Open("follower", 1, manual: 0m);
        kit.Price(50_000m);
        kit.Execute(new SetLeverage(kit.ManualOf(a), Btc, 50) { Account = a });
        var strategyA = kit.Publish(a);
        var strategyB = kit.Publish(b);
        var subA = kit.Subscribe(follower, strategyA, 1_000m, Settings(ratio: 0.1m));
        var subB = kit.Subscribe(follower, strategyB, 1_000m, Settings(ratio: 0.1m));
        var wallet = kit.ShardOf(follower).FindAccount(follower)!.WalletBalance;

        kit.Market(a, OrderSide.Buy, 1m);
        Assert.Equal(0.1m, kit.Held(follower, subA.Spec.Bucket));
        Assert.Equal(50, kit.PositionOf(follower, subA.Spec.Bucket)!.Leverage);

        // The crash reaches the follower's shard first: its A bucket runs out of margin and is liquidated.
        kit.PriceIn(1, 49_000m);
        kit.PriceIn(0, 49_000m);
        Assert.Null(kit.PositionOf(follower, subA.Spec.Bucket));
        Assert.Null(kit.PositionOf(a, kit.ManualOf(a)));
        var liquidated = kit.LastOutcome(subA);
        Assert.Equal((CopyOutcome.Skipped, CopyReasons.NoPosition), (liquidated.Outcome, liquidated.Reason));
        Assert.True(kit.BucketOf(follower, subA.Spec.Bucket).Balance > 800m, "the loss is confined to the position's margin");

        kit.Market(b, OrderSide.Buy, 1m);

        var copied = kit.LastOutcome(subB);
        Assert.Equal((CopyOutcome.Copied, 0.1m), (copied.Outcome, copied.Quantity));
        Assert.Equal(0.1m, kit.Held(follower, subB.Spec.Bucket));
        Assert.Equal(wallet, kit.ShardOf(follower).FindAccount(follower)!.WalletBalance);
        kit.AssertReplayAndSnapshotMatch();
    }

    [Fact]
    public void LeaderFlip_FollowerFlipsInOneOrder()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m));
        kit.Market(leader, OrderSide.Buy, 0.2m);
        kit.Market(leader, OrderSide.Sell, 0.5m);

        Assert.Equal(-0.15m, kit.Held(follower, sub.Spec.Bucket));
        var outcome = kit.LastOutcome(sub);
        Assert.Equal((CopyOutcome.Copied, 0.25m), (outcome.Outcome, outcome.Quantity));
    }

    [Fact]
    public void LeaderLiquidated_FollowerClosesItsPosition()
    {
        var (kit, leader, follower, strategy) = Setup();
        kit.Execute(new SetLeverage(kit.ManualOf(leader), Btc, 50) { Account = leader });
        // The follower caps its leverage at 5: it survives the move that liquidates the leader.
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.1m) with { MaxLeverage = 5 });
        kit.Market(leader, OrderSide.Buy, 1m);
        Assert.Equal(5, kit.PositionOf(follower, sub.Spec.Bucket)!.Leverage);

        kit.Price(49_000m);

        Assert.Null(kit.PositionOf(leader, kit.ManualOf(leader)));
        Assert.Null(kit.PositionOf(follower, sub.Spec.Bucket));
        Assert.Equal((CopyOutcome.Copied, 0.1m), (kit.LastOutcome(sub).Outcome, kit.LastOutcome(sub).Quantity));
    }

    public static TheoryData<string> SkipReasons => new()
    {
        CopyReasons.SymbolNotAllowed,
        CopyReasons.BucketLocked,
        CopyReasons.Slippage,
        CopyReasons.BelowMinimum,
        CopyReasons.InsufficientMargin,
        CopyReasons.SymbolHalted,
    };

    [Theory]
    [MemberData(nameof(SkipReasons))]
    public void LeaderFill_SkipCondition_RecordsReasonAndChangesNothing(string reason)
    {
        var (kit, leader, follower, strategy) = Setup();
        var settings = reason switch
        {
            CopyReasons.SymbolNotAllowed => Settings() with { Symbols = [Eth] },
            CopyReasons.Slippage => Settings() with { SlippageLimit = 0.001m },
            CopyReasons.BelowMinimum => Settings(ratio: 0.001m),
            CopyReasons.InsufficientMargin => Settings(onInsufficientMargin: InsufficientMarginPolicy.Skip),
            _ => Settings(),
        };
        var sub = kit.Subscribe(follower, strategy, reason == CopyReasons.InsufficientMargin ? 100m : 5_000m, settings);
        var bucket = sub.Spec.Bucket;
        switch (reason)
        {
            case CopyReasons.BucketLocked:
                kit.Must(new EngageKillSwitch(bucket) { Account = follower });
                break;
            case CopyReasons.Slippage:
                kit.PriceIn(1, 50_500m);
                break;
            case CopyReasons.SymbolHalted:
            {
                var output = new List<EngineEvent>();
                kit.Shards[1].SetSymbolHalt(Btc, new SymbolHalt(HaltReasons.Operator, kit.Now, null), "", kit.Now, output);
                kit.Journals[1].AddRange(output);
                break;
            }
        }

        var before = GrainTestKit.StateOf(kit.ShardOf(follower), withEventCount: false);

        kit.Market(leader, OrderSide.Buy, 0.1m);

        var outcome = kit.LastOutcome(sub);
        Assert.Equal((CopyOutcome.Skipped, reason, 0m, (long?)null), (outcome.Outcome, outcome.Reason, outcome.Quantity, outcome.Order));
        Assert.Equal(before, GrainTestKit.StateOf(kit.ShardOf(follower), withEventCount: false));
        kit.AssertReplayAndSnapshotMatch();
    }

    [Fact]
    public void LeaderFill_AboveMaxPositionNotional_ScaledDownToTheCap()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings() with { MaxPositionNotional = 1_000m });
        kit.Market(leader, OrderSide.Buy, 0.1m);
        var outcome = kit.LastOutcome(sub);
        Assert.Equal((CopyOutcome.ScaledDown, CopyReasons.MaxPositionNotional, 0.02m), (outcome.Outcome, outcome.Reason, outcome.Quantity));

        // At the cap, a scale-in has no room left.
        kit.Market(leader, OrderSide.Buy, 0.1m);
        Assert.Equal((CopyOutcome.Skipped, CopyReasons.MaxPositionNotional), (kit.LastOutcome(sub).Outcome, kit.LastOutcome(sub).Reason));
        Assert.Equal(0.02m, kit.Held(follower, sub.Spec.Bucket));
    }

    [Fact]
    public void Signal_DeliveredTwice_RecordsOneOutcome()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m));
        kit.Deliver = false;
        kit.Market(leader, OrderSide.Buy, 0.1m);
        Assert.Empty(sub.Outcomes);
        Assert.Single(kit.Shards[0].FindStrategy(strategy)!.Outbox);

        kit.Deliver = true;
        kit.Redeliver();
        // The acknowledgment emptied the outbox; a stale second delivery of the same signal changes nothing.
        Assert.Empty(kit.Shards[0].FindStrategy(strategy)!.Outbox);
        var signal = kit.Journals[0].OfType<CopySignalEmitted>().Single().Signal;
        var output = new List<EngineEvent>();
        kit.Shards[1].OnCopySignal(strategy, signal, [sub.Id], kit.Now, output);

        Assert.Empty(output);
        Assert.Single(sub.Outcomes);
        Assert.Equal(0.05m, kit.Held(follower, sub.Spec.Bucket));
    }

    [Fact]
    public void Subscribe_AfterSignals_GetsOnlyLaterSignals()
    {
        var (kit, leader, follower, strategy) = Setup();
        kit.Market(leader, OrderSide.Buy, 0.1m);
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m));
        kit.Market(leader, OrderSide.Buy, 0.1m);
        Assert.Equal(2L, Assert.Single(sub.Outcomes).Sequence);
    }

    [Fact]
    public void CrossShardAndSameShardFollowers_GiveIdenticalOutcomes()
    {
        var kit = new CopyTestKit();
        var leader = kit.Open("leader", 0);
        var near = kit.Open("near", 0, manual: 0m);
        var far = kit.Open("far", 1, manual: 0m);
        kit.Price(50_000m);
        var strategy = kit.Publish(leader);
        var settings = Settings(CopySizingMode.EquityRatio) with { MaxPositionNotional = 6_000m };
        var subNear = kit.Subscribe(near, strategy, 3_000m, settings);
        var subFar = kit.Subscribe(far, strategy, 3_000m, settings);

        kit.Market(leader, OrderSide.Buy, 0.2m);
        kit.Price(51_000m);
        kit.Market(leader, OrderSide.Buy, 0.3m);
        kit.Market(leader, OrderSide.Sell, 0.25m);
        kit.Market(leader, OrderSide.Sell, 0.5m);

        static string Of(Subscription s) => string.Join("\n", s.Outcomes.Select(o => $"{o.Sequence} {o.Outcome} {o.Reason} {o.LeaderQuantity} {o.Quantity}"));
        Assert.Equal(4, subNear.Outcomes.Count);
        Assert.Equal(Of(subNear), Of(subFar));
        Assert.Equal(kit.BucketOf(near, subNear.Spec.Bucket).Balance, kit.BucketOf(far, subFar.Spec.Bucket).Balance);
        kit.AssertReplayAndSnapshotMatch();
    }

    [Fact]
    public void LeaderTakeProfit_PlacedAmendedCancelled_FollowerCopyFollows()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m) with { CopyTakeProfitStopLoss = true });
        kit.Market(leader, OrderSide.Buy, 0.2m);

        var tp = (long)kit.Must(new PlaceOrder(GrainTestKit.TakeProfit(OrderSide.Sell, 0.1m, 55_000m) with { ReduceOnly = true }, null) { Account = leader })!;
        var placed = kit.LastOutcome(sub);
        Assert.Equal((CopySignalKind.ProtectionPlaced, CopyOutcome.Copied, 0.05m), (placed.Kind, placed.Outcome, placed.Quantity));
        var copy = kit.ShardOf(follower).Orders[placed.Order!.Value];
        Assert.Equal((OrderType.TakeProfit, OrderSide.Sell, 55_000m, true), (copy.Type, copy.Side, copy.TriggerPrice, copy.Spec.ReduceOnly));

        kit.Must(new AmendOrder(tp, null, null, 56_000m, null) { Account = leader });
        Assert.Equal(CopySignalKind.ProtectionAmended, kit.LastOutcome(sub).Kind);
        Assert.Equal(56_000m, copy.TriggerPrice);

        kit.Must(new CancelOrder(tp) { Account = leader });
        Assert.Equal((CopySignalKind.ProtectionCancelled, CopyOutcome.Copied), (kit.LastOutcome(sub).Kind, kit.LastOutcome(sub).Outcome));
        Assert.Equal((OrderStatus.Cancelled, CopyReasons.LeaderCancelled), (copy.Status, copy.Reason));
        kit.AssertReplayAndSnapshotMatch();
    }

    [Fact]
    public void LeaderStopLoss_Fills_FollowerCopyFillsOnceNotTwice()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m) with { CopyTakeProfitStopLoss = true });
        kit.Market(leader, OrderSide.Buy, 0.2m);
        kit.Must(new PlaceOrder(GrainTestKit.Stop(OrderSide.Sell, 0.2m, 49_000m) with { ReduceOnly = true }, null) { Account = leader });

        // Both shards see the fall; the follower's own copy fires, and the leader's fill signal finds it done.
        kit.PriceIn(1, 48_900m);
        kit.PriceIn(0, 48_900m);

        Assert.Null(kit.PositionOf(follower, sub.Spec.Bucket));
        var last = kit.LastOutcome(sub);
        Assert.Equal((CopySignalKind.Fill, CopyOutcome.Copied, 0.1m), (last.Kind, last.Outcome, last.Quantity));
        Assert.Equal(2, kit.ShardOf(follower).FindAccount(follower)!.Fills.Count);
    }

    [Fact]
    public void LeaderTakeProfit_WithoutCopyTakeProfitStopLoss_IsSkipped()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m));
        kit.Market(leader, OrderSide.Buy, 0.2m);
        kit.Must(new PlaceOrder(GrainTestKit.TakeProfit(OrderSide.Sell, 0.1m, 55_000m) with { ReduceOnly = true }, null) { Account = leader });
        Assert.Equal((CopyOutcome.Skipped, CopyReasons.TakeProfitStopLossNotCopied), (kit.LastOutcome(sub).Outcome, kit.LastOutcome(sub).Reason));
    }

    [Fact]
    public void EndSubscription_ClosePositions_FlattensAndReturnsBalance()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m));
        kit.Market(leader, OrderSide.Buy, 0.2m);

        kit.Must(new EndSubscription(sub.Id, true, CopyReasons.Unsubscribed) { Account = follower });

        var account = kit.ShardOf(follower).FindAccount(follower)!;
        var bucket = account.FindBucket(sub.Spec.Bucket)!;
        Assert.Equal((SubscriptionStatus.Ended, 0m, 0), (sub.Status, bucket.Balance, bucket.Positions.Count));
        // Two taker fees on 0.1 BTC at 50,000 are all it cost.
        Assert.Equal(100_000m - 5m, account.WalletBalance);

        kit.Market(leader, OrderSide.Buy, 0.2m);
        Assert.Single(sub.Outcomes);
        kit.AssertReplayAndSnapshotMatch();
    }

    [Fact]
    public void EndSubscription_KeepPositions_BucketBecomesManual()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m) with { CopyTakeProfitStopLoss = true });
        kit.Market(leader, OrderSide.Buy, 0.2m);
        var tp = (long)kit.Must(new PlaceOrder(GrainTestKit.TakeProfit(OrderSide.Sell, 0.2m, 55_000m) with { ReduceOnly = true }, null) { Account = leader })!;
        var copy = kit.ShardOf(follower).Orders[kit.LastOutcome(sub).Order!.Value];

        kit.Must(new EndSubscription(sub.Id, false, CopyReasons.Unsubscribed) { Account = follower });

        var bucket = kit.BucketOf(follower, sub.Spec.Bucket);
        Assert.Equal((BucketKind.Manual, 0.1m), (bucket.Kind, kit.Held(follower, sub.Spec.Bucket)));
        // The copy of the leader's take-profit stays, now the follower's own: the leader's cancel no longer reaches it.
        kit.Must(new CancelOrder(tp) { Account = leader });
        Assert.Equal((OrderStatus.Untriggered, (string?)null), (copy.Status, copy.Reason));
        GrainTestKit.AssertRejected(kit.Execute(new EndSubscription(sub.Id, true, CopyReasons.Unsubscribed) { Account = follower }),
            RejectionKind.Business, "subscription_ended");
        kit.AssertReplayAndSnapshotMatch();
    }

    [Fact]
    public void CloseStrategy_NoMoreSignalsOrFollowers()
    {
        var (kit, leader, follower, strategy) = Setup();
        var sub = kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m));
        kit.Must(new CloseStrategy(strategy, true) { Account = leader });
        kit.Market(leader, OrderSide.Buy, 0.2m);

        Assert.Empty(sub.Outcomes);
        Assert.Equal(StrategyStatus.Closed, kit.Shards[0].FindStrategy(strategy)!.Status);
        GrainTestKit.AssertRejected(kit.Execute(new AddCopyFollower(strategy, new SubscriptionId("x-c1"), follower, 1, 1m) { Account = leader }),
            RejectionKind.Business, "strategy_closed");
    }

    [Fact]
    public void StrategyStats_CountFollowersAllocationAndPnl()
    {
        var (kit, leader, follower, strategy) = Setup();
        kit.Subscribe(follower, strategy, 5_000m, Settings(ratio: 0.5m));
        kit.Market(leader, OrderSide.Buy, 0.1m);
        kit.Price(51_000m);
        kit.Market(leader, OrderSide.Sell, 0.1m);
        var s = kit.Shards[0].FindStrategy(strategy)!;
        // 100 USDT gained, minus taker fees of 2.5 and 2.55.
        Assert.Equal((1, 5_000m, 94.95m, 2L), (s.Followers.Count, s.Allocated, s.Pnl, s.LastSequence));
    }

    [Fact]
    public void LeaderFill_FollowerShardWithoutPrice_MirrorsAtTheLeadersFillPrice()
    {
        var kit = new CopyTestKit();
        var leader = kit.Open("leader", 0);
        var follower = kit.Open("follower", 1, manual: 0m);
        // Only the leader's shard has a price, as after a restart before the feed's first tick.
        kit.PriceIn(0, 50_000m);
        var sub = kit.Subscribe(follower, kit.Publish(leader), 5_000m, Settings(ratio: 0.5m));

        kit.Market(leader, OrderSide.Buy, 0.1m);

        Assert.Equal((CopyOutcome.Copied, 0.05m), (kit.LastOutcome(sub).Outcome, kit.LastOutcome(sub).Quantity));
        Assert.Equal(50_000m, kit.PositionOf(follower, sub.Spec.Bucket)!.EntryPrice);
        Assert.Null(kit.Shards[1].QuoteOf(Btc).Index);
    }
}
