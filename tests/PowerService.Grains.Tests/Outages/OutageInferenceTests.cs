using PowerService.Grains.Ami;
using PowerService.Grains.Outages;
using PowerService.Grains.Topology.Import;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.Outages.OutageScenario;

namespace PowerService.Grains.Tests.Outages;

/// <summary>Storm day through the AMI ingestion path: meters go dark, areas infer outages, feeders roll them up,
/// restoration finds nested outages. Defaults: 30% of an area's meters (at least 3) dark inside 5 minutes suspect an
/// outage, 60% confirm it.</summary>
public sealed class OutageInferenceTests : IAsyncLifetime
{
    private WorkflowSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = await WorkflowSilo.StartAsync();
        await ImportTopologyAsync(_silo);
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private IAreaPowerGrain AreaPower(int n) => _silo.Grain<IAreaPowerGrain>(Area(n));

    private IOutageGrain Outage(string id) => _silo.Grain<IOutageGrain>(id);

    /// <summary>Well inside the silo's 30 s call timeout: two grains waiting on each other wait that long.</summary>
    private static readonly TimeSpan AnsweredSoon = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Fourteen_dark_meters_of_fifty_are_no_outage_the_fifteenth_suspects_one_and_sends_a_crew_thirty_confirm_it()
    {
        await SendAsync(_silo, Events(_silo, 1, 14, MeterEventType.LastGasp));
        Assert.Equal((14, (string?)null), await DarkAndOutage(1));

        var receipt = await SendAsync(_silo, Events(_silo, 15, 15, MeterEventType.LastGasp));

        Assert.Equal(1, receipt.Accepted);
        var outageId = (await AreaPower(1).Get()).OutageId;
        Assert.Equal("OUT-TA-000001-1", outageId);
        var outage = (await Outage(outageId!).Get())!;
        Assert.Equal((OutageState.Suspected, OutageScope.TransformerArea, 50), (outage.State, outage.Scope, outage.AffectedCustomers));
        Assert.Equal(_silo.Clock.GetUtcNow() + TimeSpan.FromMinutes(45) + TimeSpan.FromHours(3), outage.EstimatedRestorationAt);
        var repair = (await _silo.Grain<IWorkOrderGrain>(outage.RepairOrderId!).Get())!;
        Assert.Equal((WorkOrderKind.FaultRepair, IntakeChannel.Meter, outageId), (repair.Kind, repair.Channel, repair.OutageId));

        await SendAsync(_silo, Events(_silo, 16, 30, MeterEventType.LastGasp));

        Assert.Equal(OutageState.Confirmed, (await Outage(outageId!).Get())!.State);
    }

    /// <summary>A head-end whose link to the meters was down delivers its backlog once it is back: the last gasps and the
    /// restores of an hour ago in one batch. The area judged its meters only after the whole batch, when none was dark
    /// any more: the hour-long outage was never recorded, and SAIDI counted half of two identical outages. Sent in two
    /// batches it was. It is recorded either way, at the meters' times.</summary>
    [Fact]
    public async Task An_outage_delivered_as_one_backlog_batch_of_last_gasps_and_restores_is_recorded_at_the_meters_times()
    {
        var now = _silo.Clock.GetUtcNow();
        var (lost, back) = (now.AddHours(-2), now.AddHours(-1));
        var backlog = Enumerable.Range(1, 50).SelectMany(n => new[]
        {
            new MeterEvent(Meter(n), $"gasp-{n}", MeterEventType.LastGasp, lost),
            new MeterEvent(Meter(n), $"back-{n}", MeterEventType.PowerRestored, back),
        }).ToList();

        var receipt = await SendAsync(_silo, backlog);

        Assert.Equal(100, receipt.Accepted);
        OutageView? outage = null;
        await Eventually.True(async () => (outage = await Outage("OUT-TA-000001-1").Get()) is { State: OutageState.Restored }, "the outage is recorded and restored");
        Assert.Equal((lost, back, 50), (outage!.StartedAt, outage.RestoredAt, outage.AffectedCustomers));
        Assert.Equal((0, (string?)null), await DarkAndOutage(1));
    }

    [Fact]
    public async Task Last_gasps_further_apart_than_the_window_do_not_add_up_to_an_outage()
    {
        await SendAsync(_silo, Events(_silo, 1, 10, MeterEventType.LastGasp));
        _silo.Advance(TimeSpan.FromMinutes(6));
        await SendAsync(_silo, Events(_silo, 11, 20, MeterEventType.LastGasp));

        Assert.Equal((20, (string?)null), await DarkAndOutage(1));

        _silo.Advance(TimeSpan.FromMinutes(1));
        await SendAsync(_silo, Events(_silo, 21, 25, MeterEventType.LastGasp));

        Assert.NotNull((await AreaPower(1).Get()).OutageId);
    }

    [Fact]
    public async Task Duplicate_and_late_last_gasps_of_a_known_outage_are_absorbed_one_outage_one_repair_order()
    {
        var gasps = Events(_silo, 1, 40, MeterEventType.LastGasp).ToList();
        await SendAsync(_silo, gasps);

        var again = await AreaPower(1).ReportMeterEvents(gasps);
        await SendAsync(_silo, gasps);
        _silo.Advance(TimeSpan.FromMinutes(1));
        await SendAsync(_silo, Events(_silo, 41, 50, MeterEventType.LastGasp));

        Assert.Equal(new PowerReport(0, 40), again);
        Assert.Equal((50, "OUT-TA-000001-1"), await DarkAndOutage(1));
        var board = await _silo.Grain<IOutageBoardGrain>("all").List(new OutageQuery(TransformerAreaId: Area(1)));
        Assert.Equal("OUT-TA-000001-1", Assert.Single(board.Items).Id);
        Assert.Null(await _silo.Grain<IWorkOrderGrain>("WO-OUT-TA-000001-2").Get());
    }

    /// <summary>An area outage names the feeder's repair order once its own folded into it, on the board too: it named
    /// its own Merged order, a dead end for a dispatcher following it.</summary>
    [Fact]
    public async Task Two_areas_out_on_one_feeder_roll_up_into_one_confirmed_feeder_outage_with_one_repair_order()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 51, 100, MeterEventType.LastGasp));

        var feederOutage = (await Outage("OUT-F-FD-000001-1").Get())!;
        Assert.Equal((OutageScope.Feeder, OutageState.Confirmed, 100), (feederOutage.Scope, feederOutage.State, feederOutage.AffectedCustomers));
        Assert.Equal([Area(1), Area(2)], feederOutage.TransformerAreaIds.Order());
        foreach (var area in new[] { 1, 2 })
        {
            var child = (await Outage($"OUT-TA-{area:000000}-1").Get())!;
            Assert.Equal((feederOutage.Id, feederOutage.RepairOrderId), (child.ParentOutageId, child.RepairOrderId));
            var ownRepair = (await _silo.Grain<IWorkOrderGrain>($"WO-{child.Id}").Get())!;
            Assert.Equal((WorkOrderState.Merged, feederOutage.RepairOrderId), (ownRepair.State, ownRepair.MergedInto));
        }
        await Eventually.True(async () => (await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery())).Items
            .Count(o => o.RepairOrderId == feederOutage.RepairOrderId) == 3, "the board names the feeder's repair order on all three rows");
        Assert.Null((await AreaPower(3).Get()).OutageId);
    }

    /// <summary>The head-end delivers a day-old backlog: both areas of the feeder went out at 01:00, one came back at
    /// 02:00, the other at 03:00. The areas' outages ended at their meters' times, but the feeder outage was stamped
    /// restored when the last batch was applied (a two-hour outage on the board and in its history as 24 hours).</summary>
    [Fact]
    public async Task A_feeder_outage_ended_by_its_last_areas_meters_is_restored_at_the_latest_of_their_times()
    {
        var outAt = _silo.Clock.GetUtcNow();
        await SendAsync(_silo, Events(_silo, 1, 100, MeterEventType.LastGasp));
        Assert.Equal(OutageState.Confirmed, (await Outage("OUT-F-FD-000001-1").Get())!.State);
        var backLater = outAt.AddHours(2);
        var backFirst = outAt.AddHours(1);
        _silo.Advance(TimeSpan.FromHours(24));

        // Delivered out of order: the later area first.
        await SendAsync(_silo, Enumerable.Range(51, 50).Select(n => new MeterEvent(Meter(n), $"back-{n}", MeterEventType.PowerRestored, backLater)));
        await SendAsync(_silo, Enumerable.Range(1, 50).Select(n => new MeterEvent(Meter(n), $"back-{n}", MeterEventType.PowerRestored, backFirst)));

        var feeder = (await Outage("OUT-F-FD-000001-1").Get())!;
        Assert.Equal((OutageState.Restored, backLater), (feeder.State, feeder.RestoredAt));
        Assert.Equal(backFirst, (await Outage("OUT-TA-000001-1").Get())!.RestoredAt);
    }

    [Fact]
    public async Task An_area_that_goes_out_under_an_open_feeder_outage_opens_inside_it_without_a_repair_order_of_its_own()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 51, 100, MeterEventType.LastGasp));
        var feederOutage = (await Outage("OUT-F-FD-000001-1").Get())!;
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(30));
        await Eventually.True(async () => (await AreaPower(1).Get()).NestedCheckAt is null, "the nested-outage check ran");

        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp, "again"));

        var again = (await Outage("OUT-TA-000001-2").Get())!;
        Assert.Equal((feederOutage.Id, feederOutage.RepairOrderId, OutageState.Confirmed), (again.ParentOutageId, again.RepairOrderId, again.State));
        Assert.Null(await _silo.Grain<IWorkOrderGrain>("WO-OUT-TA-000001-2").Get());

        // Its meters coming back end the area's outage, not the repair order the feeder's other area still needs.
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored, "again"));

        Assert.Equal(OutageState.Restored, (await Outage(again.Id).Get())!.State);
        Assert.NotEqual(WorkOrderState.Cancelled, (await _silo.Grain<IWorkOrderGrain>(feederOutage.RepairOrderId!).Get())!.State);
        Assert.NotEqual(OutageState.Restored, (await Outage(feederOutage.Id).Get())!.State);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_feeder_outage_restored_by_its_repair_or_a_dispatcher_restores_its_areas_and_tells_their_customers(bool byRepair)
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 51, 100, MeterEventType.LastGasp));
        var feeder = (await Outage("OUT-F-FD-000001-1").Get())!;

        if (byRepair)
        {
            await Outage(feeder.Id).RepairChanged(feeder.RepairOrderId!, WorkOrderState.Resolved, "C-7");
        }
        else
        {
            await Outage(feeder.Id).Restore("dispatcher:li");
        }

        Assert.Equal(OutageState.Restored, (await Outage(feeder.Id).Get())!.State);
        foreach (var area in new[] { 1, 2 })
        {
            Assert.Equal(OutageState.Restored, (await Outage($"OUT-TA-{area:000000}-1").Get())!.State);
            Assert.Null((await AreaPower(area).Get()).OutageId);
        }
        var board = await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery());
        Assert.Equal(0, board.Total);
        // Another storm later on the same feeder is a new outage, not one the feeder still thinks open.
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        await SendAsync(_silo, Events(_silo, 51, 100, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(30));
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp, "again"));
        await SendAsync(_silo, Events(_silo, 51, 100, MeterEventType.LastGasp, "again"));
        Assert.Equal(OutageState.Confirmed, (await Outage("OUT-F-FD-000001-2").Get())!.State);
    }

    [Fact]
    public async Task An_area_with_a_critical_customer_going_out_under_a_feeder_outage_makes_its_repair_an_emergency()
    {
        // A third area on FD-000001, with the water works (CU-0000101) on it.
        var areas = SampleFile(ImportKind.TransformerAreas).Split('\n')
            .Select(line => line.StartsWith("TA-000003,", StringComparison.Ordinal) ? System.Text.RegularExpressions.Regex.Replace(line, ",FD-\\d+,", ",FD-000001,") : line);
        await ImportAsync(_silo, ImportKind.TransformerAreas, string.Join('\n', areas));
        var customers = SampleFile(ImportKind.Customers).Split('\n')
            .Select(line => line.StartsWith("CU-0000101,", StringComparison.Ordinal) ? line.Replace(",ordinary,", ",critical,", StringComparison.Ordinal) : line);
        await ImportAsync(_silo, ImportKind.Customers, string.Join('\n', customers));
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 51, 100, MeterEventType.LastGasp));
        var feeder = (await Outage("OUT-F-FD-000001-1").Get())!;
        Assert.Equal(WorkOrderPriority.High, (await _silo.Grain<IWorkOrderGrain>(feeder.RepairOrderId!).Get())!.Priority);

        await SendAsync(_silo, Events(_silo, 101, 150, MeterEventType.LastGasp));

        var joined = (await Outage("OUT-TA-000003-1").Get())!;
        Assert.Equal(feeder.Id, joined.ParentOutageId);
        await Eventually.True(async () => (await Outage(feeder.Id).Get())!.ImportantCustomers.Any(c => c.Id == "CU-0000101"), "the feeder outage lists the water works");
        var repair = _silo.Grain<IWorkOrderGrain>(feeder.RepairOrderId!);
        Assert.Equal(WorkOrderPriority.Emergency, (await repair.Get())!.Priority);
        Assert.Contains("PriorityRaised", (await repair.GetHistory()).Select(e => e.Type));
    }

    [Fact]
    public async Task An_estimate_set_on_a_feeder_outage_reaches_its_areas_still_out_and_skips_one_already_back()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 51, 100, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        var first = (await Outage("OUT-TA-000001-1").Get())!;
        Assert.Equal(OutageState.Restored, first.State);
        var etr = _silo.Clock.GetUtcNow() + TimeSpan.FromHours(3);

        var feeder = await Outage("OUT-F-FD-000001-1").SetEstimatedRestoration(etr, "dispatcher:li", "pole down on the 10 kV line");

        Assert.Equal(etr, feeder.EstimatedRestorationAt);
        var second = (await Outage("OUT-TA-000002-1").Get())!;
        Assert.Equal((etr, "pole down on the 10 kV line"), (second.EstimatedRestorationAt, second.Cause));
        Assert.Equal(first.EstimatedRestorationAt, (await Outage(first.Id).Get())!.EstimatedRestorationAt);
        // The same estimate again tells nobody anything new.
        var again = await Outage("OUT-F-FD-000001-1").SetEstimatedRestoration(etr, "dispatcher:li");
        Assert.Equal(feeder.Version, again.Version);
        Assert.Equal(second.Version, (await Outage(second.Id).Get())!.Version);
    }

    [Fact]
    public async Task Calls_merged_into_a_confirmed_outage_reach_the_board_within_a_flush()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        var outage = Outage("OUT-TA-000001-1");
        Assert.Equal(OutageState.Confirmed, (await outage.Get())!.State);

        await outage.CallMerged("WO-CALL-1");
        await outage.CallMerged("WO-CALL-2");
        _silo.Advance(TimeSpan.FromSeconds(2));

        await Eventually.True(async () => (await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery())).Items.Single().MergedCalls == 2,
            "the board counts the two calls");
        Assert.Equal(2, (await outage.Get())!.MergedCalls);
    }

    [Fact]
    public async Task Restoration_ends_the_outage_and_meters_still_dark_after_the_grace_period_become_a_nested_outage()
    {
        // The area's supply meter (at the transformer) goes dark with it and stays dark: it is no customer.
        await SendAsync(_silo, [.. Events(_silo, 1, 50, MeterEventType.LastGasp), new MeterEvent("SM-000001", "sm-gasp", MeterEventType.LastGasp, _silo.Clock.GetUtcNow())]);
        _silo.Advance(TimeSpan.FromMinutes(40));

        await SendAsync(_silo, Events(_silo, 1, 45, MeterEventType.PowerRestored));

        var restored = (await Outage("OUT-TA-000001-1").Get())!;
        Assert.Equal(OutageState.Restored, restored.State);
        Assert.Equal(WorkOrderState.Cancelled, (await _silo.Grain<IWorkOrderGrain>(restored.RepairOrderId!).Get())!.State);
        _silo.Advance(TimeSpan.FromMinutes(3));
        await Eventually.True(async () => (await AreaPower(1).Get()).NestedOutageId is not null, "a nested outage is opened");
        var nested = (await Outage((await AreaPower(1).Get()).NestedOutageId!).Get())!;
        Assert.Equal((OutageScope.Meters, OutageState.Confirmed, restored.Id, 5), (nested.Scope, nested.State, nested.ParentOutageId, nested.AffectedCustomers));
        Assert.Equal(Enumerable.Range(46, 5).Select(Meter), nested.MeterIds);
        Assert.NotNull(await _silo.Grain<IWorkOrderGrain>(nested.RepairOrderId!).Get());

        // The last five came back ten minutes ago; the head-end delivers it late. The nested outage ends at the meters'
        // time, as the area's did, so the indicators do not count the delivery's delay as customers' minutes.
        var back = _silo.Clock.GetUtcNow();
        _silo.Advance(TimeSpan.FromMinutes(10));
        await SendAsync(_silo, Enumerable.Range(46, 5).Select(n => new MeterEvent(Meter(n), $"back-{n}", MeterEventType.PowerRestored, back)));

        Assert.Equal((OutageState.Restored, back), ((await Outage(nested.Id).Get())!.State, (await Outage(nested.Id).Get())!.RestoredAt));
        Assert.Equal((1, (string?)null), await DarkAndOutage(1)); // the supply meter, still dark, is no outage of customers
    }

    /// <summary>Three old meters were unplugged in a meter swap an hour before a storm and never report again. When the
    /// storm's outage is restored they are still dark, but the outage did not cut them: they made a nested outage of
    /// "3 customers" with a High repair order that nothing would ever end. Only meters that went dark with the outage
    /// (or after it began) are nested in it.</summary>
    [Fact]
    public async Task Meters_dark_since_long_before_the_outage_are_not_nested_in_it()
    {
        await SendAsync(_silo, Events(_silo, 1, 3, MeterEventType.LastGasp, "unplugged"));
        _silo.Advance(TimeSpan.FromHours(1));
        await SendAsync(_silo, Events(_silo, 4, 50, MeterEventType.LastGasp));
        Assert.Equal("OUT-TA-000001-1", (await AreaPower(1).Get()).OutageId);
        _silo.Advance(TimeSpan.FromMinutes(40));

        await SendAsync(_silo, Events(_silo, 4, 47, MeterEventType.PowerRestored)); // 48..50 stay dark: the storm's

        Assert.Equal(OutageState.Restored, (await Outage("OUT-TA-000001-1").Get())!.State);
        _silo.Advance(TimeSpan.FromMinutes(3));
        await Eventually.True(async () => (await AreaPower(1).Get()).NestedOutageId is not null, "a nested outage is opened");
        var nested = (await Outage((await AreaPower(1).Get()).NestedOutageId!).Get())!;
        Assert.Equal(Enumerable.Range(48, 3).Select(Meter), nested.MeterIds);
        Assert.Equal(["OUT-TA-000001-2"], (await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery())).Items.Select(o => o.Id));
    }

    /// <summary>A dispatcher restored the area by hand while every meter still reported no power: after the grace period
    /// its 50 meters are one nested outage. The area's next events (another last gasp of those meters) opened
    /// a second outage over the same customers — a second repair order, a second "outage" text, more customers out than
    /// the utility serves. Meters of the nested outage are in an outage already: absorbed.</summary>
    [Fact]
    public async Task Meters_of_a_nested_outage_going_dark_again_are_absorbed_not_a_second_outage_over_the_same_customers()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await Outage("OUT-TA-000001-1").Restore("dispatcher:li");
        _silo.Advance(TimeSpan.FromMinutes(3));
        await Eventually.True(async () => (await AreaPower(1).Get()).NestedOutageId is not null, "a nested outage is opened");
        var nested = (await AreaPower(1).Get()).NestedOutageId!;
        Assert.Equal(50, (await Outage(nested).Get())!.AffectedCustomers);

        _silo.Advance(TimeSpan.FromMinutes(1));
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp, "again"));

        Assert.Null((await AreaPower(1).Get()).OutageId);
        Assert.Equal(["OUT-TA-000001-2"], (await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery())).Items.Select(o => o.Id));

        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        Assert.Equal(OutageState.Restored, (await Outage(nested).Get())!.State);
    }

    /// <summary>Five meters stay dark after their area came back (a nested outage); later a new fault takes out the rest of
    /// the area (a new area outage). The five then report power: their nested outage ended only when some later event
    /// reached the area, its repair order open until then, and with that event's time.</summary>
    [Fact]
    public async Task A_nested_outage_ends_when_its_meters_are_back_even_while_a_newer_outage_of_the_area_is_open()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 1, 45, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(3));
        await Eventually.True(async () => (await AreaPower(1).Get()).NestedOutageId is not null, "a nested outage is opened");
        var nested = (await Outage((await AreaPower(1).Get()).NestedOutageId!).Get())!;
        Assert.Equal(Enumerable.Range(46, 5).Select(Meter), nested.MeterIds);
        _silo.Advance(TimeSpan.FromMinutes(10));
        await SendAsync(_silo, Events(_silo, 1, 45, MeterEventType.LastGasp, "second-fault"));
        var newer = (await AreaPower(1).Get()).OutageId!;
        Assert.NotEqual(nested.Id, newer);
        // Its customers: the whole area's 50, of them 5 already out in the nested outage (what the indicators count apart).
        var newerView = (await Outage(newer).Get())!;
        Assert.Equal((50, 5), (newerView.AffectedCustomers, newerView.CustomersAlreadyOut));

        var back = _silo.Clock.GetUtcNow();
        await SendAsync(_silo, Events(_silo, 46, 50, MeterEventType.PowerRestored));

        var ended = (await Outage(nested.Id).Get())!;
        Assert.Equal((OutageState.Restored, back), (ended.State, ended.RestoredAt));
        Assert.Equal(WorkOrderState.Cancelled, (await _silo.Grain<IWorkOrderGrain>(nested.RepairOrderId!).Get())!.State);
        Assert.Equal(newer, (await AreaPower(1).Get()).OutageId); // the newer outage is the area's, still out
        Assert.NotEqual(OutageState.Restored, (await Outage(newer).Get())!.State);
    }

    /// <summary>A head-end's backlog delivered five hours late: the outage started when the meters say, but the default
    /// estimate counted from then had passed already, and customers were texted a restoration time behind them. It is
    /// counted from now instead. Meters stamped minutes ahead (within the head-end's tolerance) start no outage in the
    /// future.</summary>
    [Fact]
    public async Task An_outage_learnt_late_gets_an_estimate_ahead_and_one_stamped_ahead_starts_now()
    {
        var now = _silo.Clock.GetUtcNow();
        var hoursAgo = now - TimeSpan.FromHours(5);
        await SendAsync(_silo, Enumerable.Range(1, 50).Select(n => new MeterEvent(Meter(n), $"late-{n}", MeterEventType.LastGasp, hoursAgo)));
        var late = (await Outage("OUT-TA-000001-1").Get())!;
        var restoration = new OutageOptions().DefaultRestoration(PowerService.Grains.Topology.AreaClass.Urban); // the silo runs the defaults; TA-000001 and TA-000002 are urban
        Assert.True(restoration < TimeSpan.FromHours(5));
        Assert.Equal((hoursAgo, now + restoration), (late.StartedAt, late.EstimatedRestorationAt));

        var ahead = now + TimeSpan.FromMinutes(8);
        await SendAsync(_silo, Enumerable.Range(51, 50).Select(n => new MeterEvent(Meter(n), $"ahead-{n}", MeterEventType.LastGasp, ahead)));
        var early = (await Outage("OUT-TA-000002-1").Get())!;
        Assert.Equal((now, now + restoration), (early.StartedAt, early.EstimatedRestorationAt));
    }

    [Fact]
    public async Task The_nested_outage_check_stored_with_the_restoration_runs_after_a_restart()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 1, 45, MeterEventType.PowerRestored));
        Assert.Equal(OutageState.Restored, (await Outage("OUT-TA-000001-1").Get())!.State);

        await _silo.RestartAsync();
        _silo.Advance(TimeSpan.FromMinutes(3));

        await Eventually.True(async () => (await AreaPower(1).Get()).NestedOutageId is not null, "a nested outage is opened after the restart");
        var nested = (await Outage((await AreaPower(1).Get()).NestedOutageId!).Get())!;
        Assert.Equal(Enumerable.Range(46, 5).Select(Meter), nested.MeterIds);
    }

    [Fact]
    public async Task All_meters_back_before_the_grace_period_ends_leave_no_nested_outage()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 1, 45, MeterEventType.PowerRestored));
        await SendAsync(_silo, Events(_silo, 46, 50, MeterEventType.PowerRestored));

        Assert.NotNull((await AreaPower(1).Get()).NestedCheckAt);
        _silo.Advance(TimeSpan.FromMinutes(5));
        await Eventually.True(async () => (await AreaPower(1).Get()).NestedCheckAt is null, "the nested-outage check ran");

        Assert.Null((await AreaPower(1).Get()).NestedOutageId);
        Assert.Null(await Outage("OUT-TA-000001-2").Get());
    }

    [Fact]
    public async Task A_dispatcher_restoring_the_outage_frees_the_area_and_new_last_gasps_later_are_a_new_outage()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        var outage = (await Outage("OUT-TA-000001-1").Get())!;

        await Outage(outage.Id).Restore("dispatcher:li");

        Assert.Null((await AreaPower(1).Get()).OutageId);
        Assert.Equal(WorkOrderState.Cancelled, (await _silo.Grain<IWorkOrderGrain>(outage.RepairOrderId!).Get())!.State);
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(30));
        await Eventually.True(async () => (await AreaPower(1).Get()).NestedCheckAt is null, "the nested-outage check ran");
        await SendAsync(_silo, Events(_silo, 1, 20, MeterEventType.LastGasp, "again"));
        Assert.Equal("OUT-TA-000001-2", (await AreaPower(1).Get()).OutageId);
    }

    [Fact]
    public async Task An_outage_its_meters_end_is_restored_at_the_meters_time_not_when_the_head_end_delivered_it()
    {
        var dark = _silo.Clock.GetUtcNow();
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        _silo.Advance(TimeSpan.FromHours(1));

        // Power came back 30 minutes after the cut; the head-end delivers it half an hour late.
        var back = dark.AddMinutes(30);
        await SendAsync(_silo, Enumerable.Range(1, 50).Select(n => new MeterEvent(Meter(n), $"back-{n}", MeterEventType.PowerRestored, back)));

        var outage = (await Outage("OUT-TA-000001-1").Get())!;
        Assert.Equal((OutageState.Restored, dark, back), (outage.State, outage.StartedAt, outage.RestoredAt));
    }

    [Fact]
    public async Task A_dispatcher_restoring_the_outage_as_its_meters_come_back_is_answered_at_once_and_the_board_clears()
    {
        // Each side's turn calls the other (the outage tells its area it ended; the area tells its outage its meters
        // are back): several areas, one per feeder (no roll-up), so the two turns overlap in some of them.
        var areas = new[] { 1, 3, 5, 7, 9 };
        foreach (var area in areas)
        {
            await SendAsync(_silo, Events(_silo, (area - 1) * 50 + 1, area * 50, MeterEventType.LastGasp));
        }

        await Task.WhenAll(areas.Select(area => Task.WhenAll(
            Outage($"OUT-TA-{area:000000}-1").Restore("dispatcher:li"),
            SendAsync(_silo, Events(_silo, (area - 1) * 50 + 1, area * 50, MeterEventType.PowerRestored))))).WaitAsync(AnsweredSoon);

        foreach (var area in areas)
        {
            Assert.Equal(OutageState.Restored, (await Outage($"OUT-TA-{area:000000}-1").Get())!.State);
            Assert.Null((await AreaPower(area).Get()).OutageId);
        }
        await Eventually.True(async () => (await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery())).Total == 0, "the board lists no outage");
    }

    [Fact]
    public async Task A_crew_resolving_the_repair_as_a_dispatcher_restores_the_outage_is_answered_at_once()
    {
        var areas = new[] { 1, 3, 5, 7, 9 };
        await _silo.Grain<PowerService.Grains.Crews.IFieldCrewGrain>("C-7").Register(PowerService.Grains.Tests.Crews.Crews.Profile(capacity: 10), "dispatcher:li");
        var repairs = new List<IWorkOrderGrain>();
        foreach (var area in areas)
        {
            await SendAsync(_silo, Events(_silo, (area - 1) * 50 + 1, area * 50, MeterEventType.LastGasp));
            var repair = _silo.Grain<IWorkOrderGrain>((await Outage($"OUT-TA-{area:000000}-1").Get())!.RepairOrderId!);
            await repair.Assign("C-7", "dispatcher:li");
            foreach (var step in new[] { WorkOrderAction.Accept, WorkOrderAction.StartTravel, WorkOrderAction.Arrive })
            {
                await repair.Apply(new WorkOrderCommand(step, "crew:C-7", CrewId: "C-7"));
            }
            repairs.Add(repair);
        }

        await Task.WhenAll(areas.Zip(repairs).Select(pair => Task.WhenAll(
            pair.Second.Apply(new WorkOrderCommand(WorkOrderAction.Resolve, "crew:C-7", CrewId: "C-7", Note: "fuse replaced")),
            Outage($"OUT-TA-{pair.First:000000}-1").Restore("dispatcher:li")))).WaitAsync(AnsweredSoon);

        foreach (var (area, repair) in areas.Zip(repairs))
        {
            Assert.Equal(OutageState.Restored, (await Outage($"OUT-TA-{area:000000}-1").Get())!.State);
            Assert.Equal(WorkOrderState.CallbackPending, (await repair.Get())!.State);
        }
    }

    [Fact]
    public async Task Estimated_restoration_is_set_by_a_dispatcher_and_must_follow_the_start_and_lie_ahead()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        var outage = Outage("OUT-TA-000001-1");
        var etr = _silo.Clock.GetUtcNow() + TimeSpan.FromHours(2);

        var view = await outage.SetEstimatedRestoration(etr, "dispatcher:li", "typhoon: pole down");

        Assert.Equal((etr, "typhoon: pole down"), (view.EstimatedRestorationAt, view.Cause));
        // Typed on a +08:00 console: the refusal quotes the start on that clock, to the minute.
        var typed = (view.StartedAt - TimeSpan.FromMinutes(1)).ToOffset(TimeSpan.FromHours(8));
        var bad = await Assert.ThrowsAsync<InvalidFieldException>(() => outage.SetEstimatedRestoration(typed, "dispatcher:li"));
        Assert.Equal("estimatedRestorationAt", bad.Field);
        var started = view.StartedAt.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"after the outage started ({started} +08:00)", bad.Message, StringComparison.Ordinal);
        // After the start but already past: customers would be told a time that has gone.
        _silo.Clock.Advance(TimeSpan.FromMinutes(30));
        var past = await Assert.ThrowsAsync<InvalidFieldException>(() => outage.SetEstimatedRestoration(_silo.Clock.GetUtcNow() - TimeSpan.FromMinutes(10), "dispatcher:li"));
        Assert.Equal("estimatedRestorationAt", past.Field);
        Assert.Contains("in the future", past.Message);
        Assert.Equal(etr, (await outage.Get())!.EstimatedRestorationAt);
        await Assert.ThrowsAsync<EntityNotFoundException>(() => Outage("OUT-NOPE").SetEstimatedRestoration(etr, "dispatcher:li"));
    }

    [Fact]
    public async Task An_outage_survives_a_silo_restart_and_meters_dark_before_it_stay_dark()
    {
        await SendAsync(_silo, Events(_silo, 1, 40, MeterEventType.LastGasp));

        await _silo.RestartAsync(TimeSpan.FromMinutes(1));

        Assert.Equal((40, "OUT-TA-000001-1"), await DarkAndOutage(1));
        await SendAsync(_silo, Events(_silo, 1, 40, MeterEventType.PowerRestored));
        Assert.Equal(OutageState.Restored, (await Outage("OUT-TA-000001-1").Get())!.State);
    }

    [Fact]
    public async Task Meters_back_while_the_feeder_is_still_opening_the_outage_restore_it_once_it_is_open()
    {
        // Straight from the head-end, without waiting: the restorations may reach the area before or after the feeder
        // acknowledged the opening. Either way the outage opens, then is restored, and nothing is left dangling.
        await Ingestion(_silo).SubmitAsync([.. Events(_silo, 1, 40, MeterEventType.LastGasp)]);
        _silo.Advance(TimeSpan.FromSeconds(10));
        await Ingestion(_silo).SubmitAsync([.. Events(_silo, 1, 40, MeterEventType.PowerRestored)]);

        await Eventually.True(async () => (await Outage("OUT-TA-000001-1").Get())?.State == OutageState.Restored, "the outage opened and was restored");
        var area = await AreaPower(1).Get();
        Assert.Equal((0, (string?)null, false), (area.DarkMeters, area.OutageId, area.OutageOpening));
        var repair = (await _silo.Grain<IWorkOrderGrain>("WO-OUT-TA-000001-1").Get())!;
        Assert.Equal(WorkOrderState.Cancelled, repair.State);
    }

    /// <summary>A recloser trips, closes and trips again for good; the head-end delivers the three batches back to back
    /// (or all at once after a backlog), before the feeder acknowledged the first outage's opening. The second trip
    /// used to find the area still handing the first outage over and was never judged again: 40 meters dark and no
    /// outage, no repair, no notice.</summary>
    [Fact]
    public async Task Meters_dark_again_while_the_restored_outage_is_still_being_handed_over_open_a_second_outage()
    {
        var first = _silo.Clock.GetUtcNow().AddMinutes(-1);
        IEnumerable<MeterEvent> Batch(string name, MeterEventType type, int seconds) =>
            Enumerable.Range(1, 40).Select(n => new MeterEvent(Meter(n), $"{name}-{n}", type, first.AddSeconds(seconds)));
        await Ingestion(_silo).SubmitAsync([.. Batch("trip", MeterEventType.LastGasp, 0)]);
        await Ingestion(_silo).SubmitAsync([.. Batch("close", MeterEventType.PowerRestored, 20)]);
        await Ingestion(_silo).SubmitAsync([.. Batch("trip-again", MeterEventType.LastGasp, 40)]);

        await Eventually.True(async () => (await Outage("OUT-TA-000001-2").Get())?.RepairOrderId is { } repair
            && await _silo.Grain<IWorkOrderGrain>(repair).Get() is not null, "the second trip opened an outage of its own, with its repair order");
        var restored = (await Outage("OUT-TA-000001-1").Get())!;
        Assert.Equal((OutageState.Restored, first.AddSeconds(20)), (restored.State, restored.RestoredAt));
        Assert.Equal(first.AddSeconds(40), (await Outage("OUT-TA-000001-2").Get())!.StartedAt);
        Assert.Equal("OUT-TA-000001-2", (await AreaPower(1).Get()).OutageId);
    }

    /// <summary>A head-end stamping to the second gives a meter's reading and its last gasp, or a recloser's gasp and
    /// restore, the same time. The meter must end the same whatever order they arrive in, and the log replayed over its
    /// flushed flags at the next start must not flip it (it did: an outage "restored by meters" with zero duration).</summary>
    [Fact]
    public async Task Events_of_one_meter_at_the_same_instant_end_the_same_in_either_order_and_after_a_restart()
    {
        // Area 1 hears the readings first and the gasps in a later batch; area 2 each meter's gasp then its reading.
        await SendAsync(_silo, Events(_silo, 1, 40, MeterEventType.Reading).Select(e => e with { Kwh = 0.25 }));
        await SendAsync(_silo, Events(_silo, 1, 40, MeterEventType.LastGasp));
        await SendAsync(_silo, Enumerable.Range(51, 40).SelectMany(n => new[]
        {
            Events(_silo, n, n, MeterEventType.LastGasp).Single(),
            Events(_silo, n, n, MeterEventType.Reading).Single() with { Kwh = 0.25 },
        }));

        // Power wins a tie: neither area is out.
        Assert.Equal((0, (string?)null), await DarkAndOutage(1));
        Assert.Equal((0, (string?)null), await DarkAndOutage(2));

        await _silo.RestartAsync(TimeSpan.FromMinutes(1));

        Assert.Equal((0, (string?)null), await DarkAndOutage(1));
        Assert.Equal((0, (string?)null), await DarkAndOutage(2));
        Assert.Null(await Outage("OUT-TA-000001-1").Get());
    }

    /// <summary>The order's recovery after a crash tells the outage of a call merged into it again (its one-way
    /// CallMerged may have died with the silo): before and after the opening, it confirms a suspected outage and is
    /// counted, once.</summary>
    [Fact]
    public async Task A_merged_call_told_again_by_recovery_confirms_a_suspected_outage_before_or_after_its_opening()
    {
        await SendAsync(_silo, Events(_silo, 1, 15, MeterEventType.LastGasp));
        var suspected = Outage("OUT-TA-000001-1");
        Assert.Equal(OutageState.Suspected, (await suspected.Get())!.State);
        var unopened = Outage("OUT-TA-000003-1");

        await suspected.MergedCallRecovered("WO-CALL-1", _silo.Clock.GetUtcNow());
        await unopened.MergedCallRecovered("WO-CALL-2", _silo.Clock.GetUtcNow());
        await unopened.MergedCallRecovered("WO-CALL-2", _silo.Clock.GetUtcNow()); // told twice, counted once
        var opened = await unopened.Open(new OutageOpening(
            OutageKind.Unplanned, OutageScope.TransformerArea, AreaPowerGrain.MetersActor, _silo.Clock.GetUtcNow(), [Area(3)], "FD-000002"));

        await Eventually.True(async () => (await suspected.Get())!.State == OutageState.Confirmed, "the recovered call confirmed the outage");
        Assert.Equal((OutageState.Confirmed, 1), (opened.State, opened.MergedCalls));
        await suspected.MergedCallRecovered("WO-CALL-1", _silo.Clock.GetUtcNow());
        Assert.Equal(1, (await suspected.Get())!.MergedCalls);
    }

    [Fact]
    public async Task A_call_merged_before_the_outage_opening_arrived_is_counted_and_confirms_it()
    {
        var outage = Outage("OUT-TA-000003-1");

        await outage.CallMerged("WO-CALL-1");
        var view = await outage.Open(new OutageOpening(
            OutageKind.Unplanned, OutageScope.TransformerArea, AreaPowerGrain.MetersActor, _silo.Clock.GetUtcNow(), [Area(3)], "FD-000002"));

        Assert.Equal((1, OutageState.Confirmed), (view.MergedCalls, view.State));
    }

    [Fact]
    public async Task An_area_stored_before_meter_flags_were_compacted_and_kept_apart_is_read_after_an_upgrade()
    {
        // The record an earlier version wrote for area 4 (meters 151-200): each meter's flags as an object with named fields.
        var darkSince = _silo.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var meters = string.Join(",", Enumerable.Range(1, 40).Select(n =>
            $"\"{Meter(150 + n)}\":{{\"LastAt\":{darkSince},\"LastEvent\":{n},\"DarkSince\":{darkSince}}}"));
        var record = System.Text.Encoding.UTF8.GetBytes($"{{\"Meters\":{{{meters}}},\"Outages\":0}}");
        await _silo.Storage.WriteStatesAsync([new Runtime.Storage.StateWrite(new Runtime.GrainId("AreaPower", Area(4)), 0, record)]);

        Assert.Equal(40, (await AreaPower(4).Get()).DarkMeters);
        var next = await AreaPower(4).ReportMeterEvents([new MeterEvent(Meter(191), "gasp-191", MeterEventType.LastGasp, _silo.Clock.GetUtcNow())]);
        Assert.Equal(new PowerReport(1, 0), next);
        Assert.Equal(41, (await AreaPower(4).Get()).DarkMeters);

        // The flags moved to their own state: they survive a restart, and the area's record no longer carries them.
        await _silo.RestartAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(41, (await AreaPower(4).Get()).DarkMeters);
        var stored = await _silo.Storage.ReadStateAsync(new Runtime.GrainId("AreaPower", Area(4)));
        Assert.DoesNotContain("\"Meters\":", System.Text.Encoding.UTF8.GetString(stored!.Payload), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_stored_keyed_by_meter_id_are_read_after_an_upgrade_and_still_name_the_meters_of_a_nested_outage()
    {
        // The flags an earlier version wrote for area 1 (meters 1-50): 48 dark since the outage began, keyed by meter id.
        var darkSince = _silo.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var meters = string.Join(",", Enumerable.Range(1, 48).Select(n => $"\"{Meter(n)}\":[{darkSince},{n},{darkSince}]"));
        await _silo.Storage.WriteStatesAsync([new Runtime.Storage.StateWrite(
            new Runtime.GrainId("AreaPower.meters", Area(1)), 0, System.Text.Encoding.UTF8.GetBytes($"{{\"Meters\":{{{meters}}}}}"))]);

        Assert.Equal(48, (await AreaPower(1).Get()).DarkMeters);
        // An event older than the stored one is absorbed; a meter not heard from before is applied.
        Assert.Equal(new PowerReport(1, 1), await AreaPower(1).ReportMeterEvents([
            new MeterEvent(Meter(7), "gasp-7-late", MeterEventType.PowerRestored, DateTimeOffset.FromUnixTimeMilliseconds(darkSince - 1)),
            new MeterEvent(Meter(49), "gasp-49", MeterEventType.LastGasp, _silo.Clock.GetUtcNow())]));
        await Eventually.True(async () => (await AreaPower(1).Get()) is { OutageId: not null, OutageOpening: false }, "the inferred outage is open");

        // Moved to the hash-keyed form and written: after a restart the flags are the same, the id-keyed form is gone.
        await _silo.RestartAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(49, (await AreaPower(1).Get()).DarkMeters);
        var stored = System.Text.Encoding.UTF8.GetString((await _silo.Storage.ReadStateAsync(new Runtime.GrainId("AreaPower.meters", Area(1))))!.Payload);
        Assert.DoesNotContain(Meter(7), stored, StringComparison.Ordinal);

        // Most come back; the two still dark after the grace period are a nested outage named by meter id.
        _silo.Advance(TimeSpan.FromMinutes(40));
        await SendAsync(_silo, Events(_silo, 3, 50, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(3));
        await Eventually.True(async () => (await AreaPower(1).Get()).NestedOutageId is not null, "a nested outage is opened");
        var nested = (await Outage((await AreaPower(1).Get()).NestedOutageId!).Get())!;
        Assert.Equal([Meter(1), Meter(2)], nested.MeterIds);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(darkSince), nested.StartedAt);
    }

    /// <summary>An import moved an area to another feeder while its outage was open (GIS pass). Its end was told to the
    /// new feeder, which never had it: the old feeder counted the area out for good, rolled it into a "feeder outage"
    /// with the next area to go out there (55 customers, a school with power among them, a crew sent) that nothing
    /// but a dispatcher could end. The end goes to the feeder the outage was opened through.</summary>
    [Fact]
    public async Task An_area_moved_to_another_feeder_during_its_outage_tells_its_end_to_the_feeder_it_was_out_on()
    {
        await SendAsync(_silo, Events(_silo, 1, 35, MeterEventType.LastGasp));
        Assert.Equal("OUT-TA-000001-1", (await AreaPower(1).Get()).OutageId);
        await ImportAsync(_silo, ImportKind.TransformerAreas, OnlyLines(SampleFile(ImportKind.TransformerAreas), Area(1)).Replace(",FD-000001,", ",FD-000002,", StringComparison.Ordinal));

        await SendAsync(_silo, Events(_silo, 1, 35, MeterEventType.PowerRestored));
        Assert.Equal(OutageState.Restored, (await Outage("OUT-TA-000001-1").Get())!.State);
        await SendAsync(_silo, Events(_silo, 51, 100, MeterEventType.LastGasp)); // the other area of the old feeder

        Assert.Equal("OUT-TA-000002-1", (await AreaPower(2).Get()).OutageId);
        Assert.Null(await Outage("OUT-F-FD-000001-1").Get());
        var alone = (await Outage("OUT-TA-000002-1").Get())!;
        Assert.Equal((50, (string?)null), (alone.AffectedCustomers, alone.ParentOutageId));
    }

    /// <summary>An import moved dark meters to another area during an outage (GIS pass): their restores go to the new
    /// area, but the old one still counted them dark. Its outage stayed open after every meter it has came back, and
    /// three minutes later its customers, whose power was back, were texted of an outage. The old area forgets them.</summary>
    [Fact]
    public async Task Meters_moved_to_another_area_while_dark_do_not_hold_their_old_areas_outage_open()
    {
        await SendAsync(_silo, Events(_silo, 51, 85, MeterEventType.LastGasp));
        Assert.Equal("OUT-TA-000002-1", (await AreaPower(2).Get()).OutageId);
        var moved = Enumerable.Range(51, 20).Select(Meter).ToHashSet();
        var meters = SampleFile(ImportKind.Meters).Split('\n');
        await ImportAsync(_silo, ImportKind.Meters, string.Join('\n', meters.Where((line, i) => i == 0 || moved.Contains(line.Split(',')[0]))
            .Select(line => line.Replace($",{Area(2)},", $",{Area(1)},", StringComparison.Ordinal))));

        await SendAsync(_silo, Events(_silo, 51, 85, MeterEventType.PowerRestored));

        var outage = (await Outage("OUT-TA-000002-1").Get())!;
        Assert.Equal(OutageState.Restored, outage.State);
        Assert.Equal((0, (string?)null), await DarkAndOutage(2));
        _silo.Advance(TimeSpan.FromMinutes(3));
        await Eventually.True(async () => (await AreaPower(2).Get()).NestedCheckAt is null, "the nested-outage check ran");
        Assert.Null((await AreaPower(2).Get()).NestedOutageId);
    }

    /// <summary>A meter replaced while its area was out (GIS pass: the customer moved onto a new meter, the old one never
    /// reports again) became a nested outage of "1 customers" with a repair order nothing would end. A meter no customer
    /// is on is nobody in the dark.</summary>
    [Fact]
    public async Task A_meter_left_without_a_customer_by_a_swap_during_the_outage_is_no_nested_outage()
    {
        await SendAsync(_silo, Events(_silo, 3, 50, MeterEventType.LastGasp));
        Assert.Equal("OUT-TA-000001-1", (await AreaPower(1).Get()).OutageId);
        await ImportAsync(_silo, ImportKind.Meters, "meter_id,area_id,latitude,longitude,role\nMT-0009999,TA-000001,20.05,110.33,");
        await ImportAsync(_silo, ImportKind.Customers, OnlyLines(SampleFile(ImportKind.Customers), Customer(10)).Replace($",{Meter(10)},", ",MT-0009999,", StringComparison.Ordinal));
        _silo.Advance(TimeSpan.FromMinutes(40));

        await SendAsync(_silo, [.. Events(_silo, 3, 50, MeterEventType.PowerRestored).Where(e => e.MeterId != Meter(10)),
            new MeterEvent("MT-0009999", "new-meter-on", MeterEventType.PowerRestored, _silo.Clock.GetUtcNow())]);
        Assert.Equal(OutageState.Restored, (await Outage("OUT-TA-000001-1").Get())!.State);
        _silo.Advance(TimeSpan.FromMinutes(3));

        await Eventually.True(async () => (await AreaPower(1).Get()).NestedCheckAt is null, "the nested-outage check ran");
        Assert.Null((await AreaPower(1).Get()).NestedOutageId);
        Assert.Empty((await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery())).Items);
    }

    /// <summary>The header of <paramref name="csv"/> and its line whose first field is <paramref name="key"/>.</summary>
    private static string OnlyLines(string csv, string key)
    {
        var lines = csv.Split('\n');
        return lines[0] + "\n" + lines.Single(line => line.StartsWith(key + ",", StringComparison.Ordinal));
    }

    private async Task<(int Dark, string? Outage)> DarkAndOutage(int area)
    {
        var view = await AreaPower(area).Get();
        return (view.DarkMeters, view.OutageId);
    }
}
