using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>Daily loss limits per bucket: realized plus unrealized loss since the UTC day's start.</summary>
public sealed class DailyLossLimitTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    [Fact]
    public void OnPrices_LossReachesTheLimit_FlattensAndLocksOnlyThatBucket()
    {
        var kit = new GrainTestKit();
        var swing = kit.CreateBucket("swing", 5_000m);
        kit.Price(50_000m);
        kit.Must(new SetDailyLossLimit(swing, 100m) { Account = kit.Account });
        kit.PlaceOk(Market(Buy, 0.1m) with { Bucket = swing });
        kit.PlaceOk(Market(Buy, 0.1m));
        var swingStop = kit.PlaceOk(Stop(Sell, 0.1m, 46_000m) with { Bucket = swing, ReduceOnly = true });
        var manualStop = kit.PlaceOk(Stop(Sell, 0.1m, 46_000m) with { ReduceOnly = true });

        // A 2.5 USDT fee and 90 USDT unrealized: 92.5 lost, below the limit.
        kit.Price(49_100m);
        Assert.False(kit.BucketOf(swing).LossLocked);
        Assert.Equal(92.5m, kit.Shard.DailyLoss(kit.BucketOf(swing)));

        var at = kit.Cursor;
        kit.Price(49_000m);

        var reached = Single<DailyLossLimitReached>(kit.Since(at));
        Assert.Equal((swing, 102.5m, 100m), (reached.Bucket, reached.Loss, reached.Limit));
        Assert.True(kit.BucketOf(swing).LossLocked);
        Assert.Empty(kit.BucketOf(swing).Positions);
        Assert.Equal((OrderStatus.Cancelled, OrderReasons.DailyLossLimit), (kit.OrderOf(swingStop).Status, kit.OrderOf(swingStop).Reason));
        // The other bucket keeps its position, its stop and its trading.
        Assert.Equal(0.1m, kit.PositionOf()!.Quantity);
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(manualStop).Status);
        kit.PlaceOk(Market(Buy, 0.01m));
        AssertRejected(kit.Place(Market(Buy, 0.01m) with { Bucket = swing }), RejectionKind.Business, "trading_disabled");
        kit.AssertReplayMatches();
    }

    [Fact]
    public void AdvanceTime_NextUtcDay_UnlocksAndCountsFromTheNewDaysEquity()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        kit.Must(new SetDailyLossLimit(kit.Manual, 50m) { Account = kit.Account });
        kit.PlaceOk(Market(Buy, 0.1m));
        kit.Price(49_400m);
        Assert.True(kit.BucketOf().LossLocked);
        var equityAfterLock = kit.BucketOf().Balance;

        var midnight = new DateTimeOffset(kit.Now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        kit.AdvanceTo(midnight.AddMinutes(-1));
        Assert.True(kit.BucketOf().LossLocked);
        var events = kit.AdvanceTo(midnight);

        var day = Single<BucketDayStarted>(events);
        Assert.Equal((midnight, equityAfterLock), (day.Day, day.Baseline));
        Assert.False(kit.BucketOf().LossLocked);
        kit.PlaceOk(Market(Buy, 0.1m));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void ReleaseDailyLossLock_Locked_TradesAgainAndTheLossCountsFromNow()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        kit.Must(new SetDailyLossLimit(kit.Manual, 50m) { Account = kit.Account });
        kit.PlaceOk(Market(Buy, 0.1m));
        kit.Price(49_400m);
        Assert.True(kit.BucketOf().LossLocked);

        kit.Must(new ReleaseDailyLossLock(kit.Manual) { Account = kit.Account });

        Assert.False(kit.BucketOf().LossLocked);
        Assert.Equal(0m, kit.Shard.DailyLoss(kit.BucketOf()));
        kit.PlaceOk(Market(Buy, 0.1m));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void TransferFunds_OutOfALimitedBucket_IsNotALoss()
    {
        var kit = new GrainTestKit();
        kit.Must(new SetDailyLossLimit(kit.Manual, 50m) { Account = kit.Account });

        kit.Must(new TransferFunds(kit.Manual, TransferDirection.Out, 1_000m) { Account = kit.Account });
        kit.Must(new TransferFunds(kit.Manual, TransferDirection.In, 300m) { Account = kit.Account });

        Assert.Equal(0m, kit.Shard.DailyLoss(kit.BucketOf()));
        Assert.False(kit.BucketOf().LossLocked);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void CreateBucket_WithDailyLossLimit_CountsFromItsAllocation()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);

        var bucket = (BucketId)kit.Must(new CreateBucket("capped", 2_000m, DailyLossLimit: 10m) { Account = kit.Account })!;
        kit.PlaceOk(Market(Buy, 0.1m) with { Bucket = bucket });
        kit.Price(49_920m);

        // 2.5 fee + 8 unrealized = 10.5 >= 10.
        Assert.True(kit.BucketOf(bucket).LossLocked);
        Assert.Equal(10m, kit.BucketOf(bucket).DailyLossLimit);
        kit.AssertReplayMatches();
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1000000000001")]
    public void SetDailyLossLimit_NotAPositiveAmount_InvalidAndNothingChanges(string limit)
    {
        var kit = new GrainTestKit();
        var before = kit.Shard.Fingerprint();

        var set = kit.Execute(new SetDailyLossLimit(kit.Manual, decimal.Parse(limit, System.Globalization.CultureInfo.InvariantCulture)) { Account = kit.Account });
        var create = kit.Execute(new CreateBucket("x", 10m, DailyLossLimit: decimal.Parse(limit, System.Globalization.CultureInfo.InvariantCulture)) { Account = kit.Account });

        AssertRejected(set, RejectionKind.Invalid, "invalid_daily_loss_limit");
        AssertRejected(create, RejectionKind.Invalid, "invalid_daily_loss_limit");
        Assert.Equal(before, kit.Shard.Fingerprint());
    }

    [Fact]
    public void OnPrices_PositionInHaltedSymbol_LossJudgedWhenItResumes()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        kit.Must(new SetDailyLossLimit(kit.Manual, 50m) { Account = kit.Account });
        kit.PlaceOk(Market(Buy, 0.1m));
        kit.Halt();

        kit.Price(49_000m);
        kit.Advance(TimeSpan.FromSeconds(1));
        Assert.False(kit.BucketOf().LossLocked);

        kit.Resume();
        Assert.True(kit.BucketOf().LossLocked);
        Assert.Empty(kit.BucketOf().Positions);
        kit.AssertReplayMatches();
    }
}
