using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Plans;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>
/// Trade plans in the domain: creation and its validation, the arm, disarm and flatten steps with
/// their misfire rules, idempotent and out-of-order steps, cancellation, and replay.
/// </summary>
public sealed class PlanTests
{
    private static readonly DateTimeOffset Event = T0.AddHours(1);

    /// <summary>A BTC straddle 0.6% around the index, 1% risk of a 5,000 USDT plan bucket, SL 0.3%, TP 0.9%, flatten 4 h after.</summary>
    private static PlanRequest Cpi(DateTimeOffset? eventAt = null, PlanMisfire misfire = PlanMisfire.Skip) => new()
    {
        Name = "cpi",
        Symbol = Btc,
        Allocation = 5_000m,
        EventAt = eventAt ?? Event,
        ArmBefore = TimeSpan.FromMinutes(5),
        DisarmAfter = TimeSpan.FromMinutes(30),
        FlattenAfter = TimeSpan.FromHours(4),
        Entry = PlanEntryType.Straddle,
        EntryDistance = 0.006m,
        RiskFraction = 0.01m,
        StopLossDistance = 0.003m,
        TakeProfitDistance = 0.009m,
        Misfire = misfire,
    };

    private static PlanId Create(GrainTestKit kit, PlanRequest request) => (PlanId)kit.Must(new CreatePlan(request) { Account = kit.Account })!;

    private static CommandResult Step(GrainTestKit kit, PlanId plan, PlanStep step, DateTimeOffset? eventAt = null, DateTimeOffset? next = null) =>
        kit.Execute(new RunPlanStep(plan, step, eventAt ?? Event, next) { Account = kit.Account });

    private static Plan PlanOf(GrainTestKit kit, PlanId id) => kit.Shard.FindPlan(kit.Account, id)!;

    // ---- creation ----

    [Fact]
    public void CreatePlan_WithAllocation_CreatesAPlanBucketFromTheWalletAndSchedulesTheEvent()
    {
        var kit = new GrainTestKit(wallet: 100_000m, manual: 10_000m);
        var cursor = kit.Cursor;

        var id = Create(kit, Cpi());

        var events = kit.Since(cursor);
        Assert.Equal(["BucketCreated", "PlanCreated"], Kinds(events));
        var bucket = Single<BucketCreated>(events);
        Assert.Equal((BucketKind.Plan, 5_000m, "cpi"), (bucket.Kind, bucket.Allocation, bucket.Name));
        Assert.Equal(85_000m, kit.AccountState.WalletBalance);
        var plan = PlanOf(kit, id);
        Assert.Equal(new PlanId("acc-1-p1"), id);
        Assert.Equal((PlanStatus.Scheduled, Event, bucket.Bucket, true), (plan.Status, plan.EventAt, plan.Spec.Bucket, plan.Spec.OwnBucket));
        Assert.Equal((Event.AddMinutes(-5), Event.AddMinutes(30), Event.AddHours(4)), (plan.ArmAt, plan.DisarmAt, plan.FlattenAt));
        kit.AssertReplayMatches();
    }

    public static TheoryData<string, Func<PlanRequest, PlanRequest>> InvalidRequests() => new()
    {
        { "invalid_name", r => r with { Name = " " } },
        { "unknown_symbol", r => r with { Symbol = "DOGE-USDT" } },
        { "invalid_arm_before", r => r with { ArmBefore = TimeSpan.FromMinutes(-5) } },
        { "invalid_arm_before", r => r with { ArmBefore = TimeSpan.Zero } },
        { "invalid_arm_before", r => r with { ArmBefore = TimeSpan.FromMinutes(61) } },
        { "invalid_disarm_after", r => r with { DisarmAfter = TimeSpan.FromMinutes(-1) } },
        { "invalid_flatten_after", r => r with { FlattenAfter = TimeSpan.FromMinutes(30) } },
        { "invalid_event", r => r with { EventAt = T0 } },
        { "invalid_event", r => r with { EventAt = T0.AddMinutes(-1) } },
        { "invalid_time_zone", r => r with { Cron = "0 30 8 10 * ?" } },
        { "invalid_distance", r => r with { EntryDistance = -0.006m } },
        { "invalid_distance", r => r with { EntryDistance = 0m } },
        { "invalid_distance", r => r with { StopLossDistance = -0.003m } },
        { "invalid_distance", r => r with { TakeProfitDistance = 1m } },
        { "invalid_sizing", r => r with { Quantity = 0.01m } },
        { "invalid_sizing", r => r with { RiskFraction = null } },
        { "invalid_risk_fraction", r => r with { RiskFraction = 1.5m } },
        { "invalid_lot_size", r => r with { RiskFraction = null, Quantity = 0.0105m } },
        { "invalid_allocation", r => r with { Allocation = 0m } },
        { "invalid_allocation", r => r with { Bucket = new BucketId("acc-1-b1") } },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public void CreatePlan_InvalidRequest_IsRefusedWithItsCodeAndChangesNothing(string code, Func<PlanRequest, PlanRequest> change)
    {
        var kit = new GrainTestKit();
        var before = kit.Shard.Fingerprint();

        var result = kit.Execute(new CreatePlan(change(Cpi())) { Account = kit.Account });

        AssertRejected(result, RejectionKind.Invalid, code);
        Assert.Empty(result.Events);
        Assert.Equal(before, kit.Shard.Fingerprint());
    }

    [Fact]
    public void CreatePlan_AllocationAboveTheWallet_IsRefusedAsInsufficientBalance()
    {
        var kit = new GrainTestKit(wallet: 4_000m, manual: 0m);

        var result = kit.Execute(new CreatePlan(Cpi()) { Account = kit.Account });

        AssertRejected(result, RejectionKind.Business, "insufficient_balance");
        Assert.Empty(kit.Shard.PlansOf(kit.Account));
        Assert.Equal(4_000m, kit.AccountState.WalletBalance);
    }

    // ---- arm ----

    [Fact]
    public void RunPlanStep_ArmOnTime_PlacesAStraddleAroundTheIndexSizedByRisk()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-5);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Arm);

        var events = kit.Since(cursor);
        Assert.Equal(["PlanArmed", "OrderListAccepted", "OrderAccepted", "OrderAccepted", "OrderAccepted", "OrderAccepted", "OrderAccepted", "OrderAccepted"], Kinds(events));
        var armed = Single<PlanArmed>(events);
        // Entries at 64,000 × (1 ± 0.006) = 64,384.0 / 63,616.0. Stops at 0.3%: 64,190.8 / 63,806.8 (on the 0.1 tick).
        // Risk 50 USDT; per unit, the distance plus 0.05% taker fees on both fills:
        //   buy  193.2 + (64,384 + 64,190.8) × 0.0005 = 257.4874 → 50 / 257.4874 = 0.1941… → 0.194
        //   sell 190.8 + (63,616 + 63,806.8) × 0.0005 = 254.5114 → 50 / 254.5114 = 0.1964… → 0.196; the smaller wins.
        Assert.Equal((64_000m, 0.194m), (armed.ReferencePrice, armed.Quantity));
        var specs = events.OfType<OrderAccepted>().Select(a => a.Order).ToArray();
        Assert.Equal(armed.Orders.Select(o => o.Order), specs.Select(s => s.Number));
        Assert.Equal(
            [PlanOrderRole.Entry, PlanOrderRole.Entry, PlanOrderRole.TakeProfit, PlanOrderRole.StopLoss, PlanOrderRole.TakeProfit, PlanOrderRole.StopLoss],
            armed.Orders.Select(o => o.Role));
        Assert.Equal((OrderSide.Buy, OrderType.Stop, 64_384.0m, 0.194m), (specs[0].Side, specs[0].Type, specs[0].TriggerPrice, specs[0].Quantity));
        Assert.Equal((OrderSide.Sell, OrderType.Stop, 63_616.0m, 0.194m), (specs[1].Side, specs[1].Type, specs[1].TriggerPrice, specs[1].Quantity));
        Assert.All(specs.Skip(2), s => Assert.True(s.ReduceOnly && s.SizeFromParent));
        Assert.Equal([0.009m, 0.003m, 0.009m, 0.003m], specs.Skip(2).Select(s => s.ParentDistance!.Value));
        Assert.All(specs, s => Assert.Equal(PlanOf(kit, id).Spec.Bucket, s.Bucket));
        Assert.Equal(OrderListType.Straddle, Single<OrderListAccepted>(events).ListType);
        Assert.Equal(PlanStatus.Armed, PlanOf(kit, id).Status);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void RunPlanStep_ArmTwice_SecondChangesNothing()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-5);
        Step(kit, id, PlanStep.Arm);
        var before = kit.Shard.Fingerprint();

        var again = Step(kit, id, PlanStep.Arm);

        Assert.True(again.Succeeded);
        Assert.Empty(again.Events);
        Assert.Equal(before, kit.Shard.Fingerprint());
    }

    [Fact]
    public void RunPlanStep_ArmLaterThanTheGraceWithSkip_SkipsTheOccurrence()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-3);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Arm);

        var events = kit.Since(cursor);
        Assert.Equal(["PlanArmSkipped", "PlanCompleted"], Kinds(events));
        Assert.Equal("missed_arm", Single<PlanArmSkipped>(events).Reason);
        Assert.Equal(PlanStatus.Completed, PlanOf(kit, id).Status);
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void RunPlanStep_ArmWithinTheGraceWithSkip_Arms()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-4);

        Step(kit, id, PlanStep.Arm);

        Assert.Equal(PlanStatus.Armed, PlanOf(kit, id).Status);
    }

    [Fact]
    public void RunPlanStep_ArmLateBeforeTheEventWithArmLate_Arms()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi(misfire: PlanMisfire.ArmLate));
        kit.Now = Event.AddSeconds(-10);

        Step(kit, id, PlanStep.Arm);

        Assert.Equal(PlanStatus.Armed, PlanOf(kit, id).Status);
        Assert.Equal(2, kit.AccountState.LiveOrders.Count(n => kit.OrderOf(n).Spec.Parent is null));
    }

    [Theory]
    [InlineData(PlanMisfire.Skip)]
    [InlineData(PlanMisfire.ArmLate)]
    public void RunPlanStep_ArmAtOrAfterTheEvent_NeverArms(PlanMisfire misfire)
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi(misfire: misfire));
        kit.Now = Event;
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Arm);

        var events = kit.Since(cursor);
        Assert.Equal(["PlanArmSkipped", "PlanCompleted"], Kinds(events));
        Assert.Equal("event_passed", Single<PlanArmSkipped>(events).Reason);
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void RunPlanStep_ArmWithoutAnIndex_SkipsWithNoPrice()
    {
        var kit = new GrainTestKit();
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-5);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Arm);

        Assert.Equal("no_price", Single<PlanArmSkipped>(kit.Since(cursor)).Reason);
    }

    [Fact]
    public void RunPlanStep_ArmWithAStopBeyondLiquidation_SkipsWithStopBeyondLiquidation()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        // At 10x a long entered at 64,384 is liquidated near 58,179: a 10% stop would sit beyond it.
        var id = Create(kit, Cpi() with { Entry = PlanEntryType.BuyStop, RiskFraction = null, Quantity = 0.01m, StopLossDistance = 0.1m });
        kit.Now = Event.AddMinutes(-5);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Arm);

        Assert.Equal("stop_beyond_liquidation", Single<PlanArmSkipped>(kit.Since(cursor)).Reason);
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void RunPlanStep_ArmSellStop_PlacesOneStopBelowWithItsExits()
    {
        var kit = new GrainTestKit();
        kit.Price(3_000m, Eth);
        var id = Create(kit, Cpi() with { Symbol = Eth, Entry = PlanEntryType.SellStop, EntryDistance = 0.01m, RiskFraction = null, Quantity = 0.5m, TakeProfitDistance = null });
        kit.Now = Event.AddMinutes(-5);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Arm);

        var specs = kit.Since(cursor).OfType<OrderAccepted>().Select(a => a.Order).ToArray();
        Assert.Equal(2, specs.Length);
        Assert.Equal((OrderSide.Sell, OrderType.Stop, 2_970.00m, 0.5m), (specs[0].Side, specs[0].Type, specs[0].TriggerPrice, specs[0].Quantity));
        Assert.Equal((OrderSide.Buy, OrderType.Stop, specs[0].Number, 0.003m), (specs[1].Side, specs[1].Type, specs[1].Parent, specs[1].ParentDistance));
        Assert.Equal(OrderListType.Bracket, Single<OrderListAccepted>(kit.Since(cursor)).ListType);
    }

    // ---- a whole occurrence ----

    [Fact]
    public void Plan_OneSideFiresThenDisarmAndFlatten_TracksTheFillsAndClosesWhatIsLeft()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-5);
        Step(kit, id, PlanStep.Arm);
        var orders = PlanOf(kit, id).TrackedOrders.Select(o => o.Order).ToArray();
        var (buy, sell, buyTp, buySl, sellTp, sellSl) = (orders[0], orders[1], orders[2], orders[3], orders[4], orders[5]);

        kit.Now = Event.AddSeconds(2);
        var fired = kit.Price(64_400m);

        Assert.Equal(64_400m, Single<OrderFilled>(fired).Price);
        Assert.Equal((OrderStatus.Filled, OrderStatus.Cancelled, OrderStatus.Cancelled, OrderStatus.Cancelled),
            (kit.OrderOf(buy).Status, kit.OrderOf(sell).Status, kit.OrderOf(sellTp).Status, kit.OrderOf(sellSl).Status));
        // The exits arm from the fill: 64,400 × 1.009 = 64,979.6 and 64,400 × 0.997 = 64,206.8.
        Assert.Equal((64_979.6m, 64_206.8m), (kit.OrderOf(buyTp).TriggerPrice, kit.OrderOf(buySl).TriggerPrice));
        Assert.Equal(0.194m, PlanOf(kit, id).NetQuantity);

        kit.Now = Event.AddMinutes(30);
        var cursor = kit.Cursor;
        Step(kit, id, PlanStep.Disarm);
        Assert.Equal(["PlanDisarmed"], Kinds(kit.Since(cursor)));
        Assert.Empty(Single<PlanDisarmed>(kit.Since(cursor)).Orders);
        Assert.Equal(PlanStatus.Disarmed, PlanOf(kit, id).Status);

        kit.Now = Event.AddHours(4);
        kit.Price(64_500m);
        cursor = kit.Cursor;
        Step(kit, id, PlanStep.Flatten);

        var events = kit.Since(cursor);
        Assert.Equal(["PlanFlattened", "OrderAccepted", "OrderFilled", "OrderCancelled", "OrderCancelled", "PlanCompleted"], Kinds(events));
        var close = Single<OrderFilled>(events);
        Assert.Equal((0.194m, 64_500m), (close.Quantity, close.Price));
        // 0.194 × (64,500 − 64,400) = 19.4 realized; fees 0.194 × 64,400 × 0.0005 = 6.2468 and 0.194 × 64,500 × 0.0005 = 6.2565.
        Assert.Equal(19.4m, close.RealizedPnl);
        Assert.All(events.OfType<OrderCancelled>(), c => Assert.Equal("position_closed", c.Reason));
        var plan = PlanOf(kit, id);
        Assert.Equal((PlanStatus.Completed, 0m, 19.4m, 12.5033m), (plan.Status, plan.NetQuantity, plan.RealizedPnl, plan.Fees));
        Assert.Null(kit.PositionOf(Btc, plan.Spec.Bucket));
        Assert.Empty(plan.TrackedOrders);
        var kinds = plan.History.Select(h => h.Kind).ToArray();
        Assert.Equal(
        [
            // The sell side and its two exits are cancelled the moment the buy side triggers, before its fill.
            PlanHistoryKind.Created, PlanHistoryKind.Armed, PlanHistoryKind.OrderCancelled, PlanHistoryKind.OrderCancelled, PlanHistoryKind.OrderCancelled,
            PlanHistoryKind.OrderFilled, PlanHistoryKind.Disarmed, PlanHistoryKind.Flattened, PlanHistoryKind.OrderFilled, PlanHistoryKind.OrderCancelled,
            PlanHistoryKind.OrderCancelled, PlanHistoryKind.Completed,
        ], kinds);
        var completed = plan.History.Last();
        Assert.Equal((19.4m, 12.5033m), (completed.RealizedPnl, completed.Fee));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void RunPlanStep_DisarmWithNothingFired_CancelsBothEntriesAndTheirExits()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi() with { FlattenAfter = null });
        kit.Now = Event.AddMinutes(-5);
        Step(kit, id, PlanStep.Arm);
        var entries = PlanOf(kit, id).TrackedOrders.Where(o => o.Role == PlanOrderRole.Entry).Select(o => o.Order).ToArray();
        kit.Now = Event.AddMinutes(30);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Disarm);

        var events = kit.Since(cursor);
        Assert.Equal(entries, Single<PlanDisarmed>(events).Orders);
        Assert.Equal(6, events.OfType<OrderCancelled>().Count());
        Assert.Equal(["plan_disarmed", "primary_not_filled", "primary_not_filled", "plan_disarmed", "primary_not_filled", "primary_not_filled"],
            events.OfType<OrderCancelled>().Select(c => c.Reason));
        Assert.Equal("PlanCompleted", Kinds(events).Last());
        Assert.Empty(kit.AccountState.LiveOrders);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void RunPlanStep_DisarmBeforeTheArmRan_SkipsTheArmAndALaterArmChangesNothing()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddHours(5);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Flatten);
        Step(kit, id, PlanStep.Disarm);
        Step(kit, id, PlanStep.Arm);

        var events = kit.Since(cursor);
        Assert.Equal(["PlanArmSkipped", "PlanCompleted"], Kinds(events));
        Assert.Equal("event_passed", Single<PlanArmSkipped>(events).Reason);
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void RunPlanStep_FlattenWhileStillArmed_DisarmsFirst()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-5);
        Step(kit, id, PlanStep.Arm);
        kit.Now = Event.AddHours(4);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Flatten);

        var kinds = Kinds(kit.Since(cursor));
        Assert.Equal("PlanDisarmed", kinds[Array.IndexOf(kinds, "PlanFlattened") - 1]);
        Assert.Equal("nothing_to_close", Single<PlanFlattened>(kit.Since(cursor)).Reason);
        Assert.Equal(PlanStatus.Completed, PlanOf(kit, id).Status);
    }

    // ---- recurring plans ----

    [Fact]
    public void RunPlanStep_RecurringPlanLastStep_ReschedulesToTheNextOccurrenceAndStaleStepsDoNothing()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var next = Event.AddDays(28);
        var id = Create(kit, Cpi() with { Cron = "0 30 13 12 * ?", TimeZone = "UTC", FlattenAfter = null });
        kit.Now = Event.AddMinutes(-5);
        Step(kit, id, PlanStep.Arm, next: next);
        kit.Now = Event.AddMinutes(30);
        var cursor = kit.Cursor;

        Step(kit, id, PlanStep.Disarm, next: next);

        var events = kit.Since(cursor);
        Assert.Equal("PlanRescheduled", Kinds(events).Last());
        Assert.Equal((Event, next), (Single<PlanRescheduled>(events).EventAt, Single<PlanRescheduled>(events).NextEventAt));
        var plan = PlanOf(kit, id);
        Assert.Equal((PlanStatus.Scheduled, next), (plan.Status, plan.EventAt));

        // The old occurrence's steps, fired again, change nothing.
        var before = kit.Shard.Fingerprint();
        Assert.Empty(Step(kit, id, PlanStep.Arm, Event, next).Events);
        Assert.Empty(Step(kit, id, PlanStep.Disarm, Event, next).Events);
        Assert.Equal(before, kit.Shard.Fingerprint());

        kit.Now = next.AddMinutes(-5);
        Step(kit, id, PlanStep.Arm, next, next.AddDays(31));
        Assert.Equal(PlanStatus.Armed, PlanOf(kit, id).Status);
        kit.AssertReplayMatches();
    }

    // ---- cancel ----

    [Fact]
    public void CancelPlan_Armed_CancelsItsWaitingEntriesAndTheirExits()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-5);
        Step(kit, id, PlanStep.Arm);
        var cursor = kit.Cursor;

        kit.Must(new CancelPlan(id) { Account = kit.Account });

        var events = kit.Since(cursor);
        Assert.Equal("PlanCancelled", Kinds(events).Last());
        Assert.Equal(["plan_cancelled", "primary_not_filled", "primary_not_filled", "plan_cancelled", "primary_not_filled", "primary_not_filled"],
            events.OfType<OrderCancelled>().Select(c => c.Reason));
        Assert.Equal(PlanStatus.Cancelled, PlanOf(kit, id).Status);
        Assert.Empty(kit.AccountState.LiveOrders);

        // Finished plans ignore their steps and refuse a second cancel.
        Assert.Empty(Step(kit, id, PlanStep.Disarm).Events);
        AssertRejected(kit.Execute(new CancelPlan(id) { Account = kit.Account }), RejectionKind.Business, "plan_closed");
        kit.AssertReplayMatches();
    }

    [Fact]
    public void CancelPlan_AfterASideFired_KeepsTheExitsProtectingThePosition()
    {
        var kit = new GrainTestKit();
        kit.Price(64_000m);
        var id = Create(kit, Cpi());
        kit.Now = Event.AddMinutes(-5);
        Step(kit, id, PlanStep.Arm);
        kit.Price(63_600m);

        kit.Must(new CancelPlan(id) { Account = kit.Account });

        var live = kit.AccountState.LiveOrders.Select(kit.OrderOf).ToArray();
        Assert.Equal(2, live.Length);
        Assert.All(live, o => Assert.True(o.Spec.ReduceOnly && o.Side == OrderSide.Buy));
        Assert.Equal(-0.194m, kit.PositionOf(Btc, PlanOf(kit, id).Spec.Bucket)!.Quantity);
    }

    // ---- position sizing ----

    [Fact]
    public void PositionSizing_LongWithinMargin_SizesByRiskWithFees()
    {
        var instrument = Engine.Grains.Instruments.InstrumentCatalog.Default.Find(Btc)!;

        var (size, rejection) = PositionSizing.Calculate(instrument, 10_000m, 0.01m, 64_000m, 63_360m, 10);

        Assert.Null(rejection);
        // Per unit 640 + (64,000 + 63,360) × 0.0005 = 703.68; 100 / 703.68 = 0.14211… → 0.142 (lot 0.001).
        // Notional 0.142 × 64,000 = 9,088; margin 908.8; liquidation (9,088 − 908.8) / (0.142 × 0.996) = 57,831.325… → 57,831.4 (up to the tick).
        // Loss at stop 0.142 × 640 + 4.544 + 4.49856 = 99.92256.
        Assert.Equal(new PositionSize(OrderSide.Buy, 0.142m, 9_088.000m, 908.8m, 57_831.4m, 99.92256m), size);
    }

    [Fact]
    public void PositionSizing_RiskNeedsMoreMarginThanTheEquity_IsCappedByMargin()
    {
        var instrument = Engine.Grains.Instruments.InstrumentCatalog.Default.Find(Eth)!;

        // A 0.1% stop at 2x: the risk alone asks for 10 / (3 + 5,997 × 0.0005) = 1.667 ETH; the equity margins 1,000 / (3,000 × 0.5005) = 0.666 ETH.
        var (size, _) = PositionSizing.Calculate(instrument, 1_000m, 0.01m, 3_000m, 2_997m, 2);

        Assert.Equal((OrderSide.Buy, 0.666m, 999.000m), (size!.Side, size.Quantity, size.Margin));
    }

    [Theory]
    [InlineData(10, "57800")] // a long at 10x is liquidated at 57,831.4 (above): the stop below it never protects
    [InlineData(100, "64400")] // a short at 100x is liquidated at 64,382.4 (below the stop)
    public void PositionSizing_StopBeyondLiquidation_IsRefused(int leverage, string stop)
    {
        var instrument = Engine.Grains.Instruments.InstrumentCatalog.Default.Find(Btc)!;

        var (size, rejection) = PositionSizing.Calculate(instrument, 10_000m, 0.01m, 64_000m, decimal.Parse(stop, System.Globalization.CultureInfo.InvariantCulture), leverage);

        Assert.Null(size);
        Assert.Equal((RejectionKind.Business, "stop_beyond_liquidation"), (rejection!.Kind, rejection.Code));
    }
}
