using PowerService.Grains.Crews;
using PowerService.Grains.Outages;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.Recovery;
using PowerService.Grains.Regions;
using PowerService.Grains.Tests.Outages;
using PowerService.Grains.Tests.PlannedOutages;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.WorkOrders.Scenario;

namespace PowerService.Grains.Tests.Recovery;

/// <summary>The process dies between an order's change and the moment its crew's list, the region's order index and
/// dispatch's backlog (all written behind) store it: after the restart every one of them shows what the orders say.</summary>
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task An_order_the_crew_accepted_just_before_a_crash_is_still_on_its_PDA_and_in_the_dispatch_list()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1");
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault());
        await order.Apply(ByCrew(WorkOrderAction.Accept, "c1"));
        await order.Apply(ByCrew(WorkOrderAction.StartTravel, "c1"));

        await silo.CrashAsync();
        order = silo.Grain<IWorkOrderGrain>("o-1"); // references are to a silo: this is the new one

        Assert.Equal(["o-1"], (await silo.Grain<IFieldCrewGrain>("c1").Get())!.CurrentOrders);
        var listed = Assert.Single((await silo.Grain<IOpenOrdersGrain>(Region).List(new WorkOrderQuery())).Items);
        Assert.Equal(("o-1", WorkOrderState.EnRoute, "c1"), (listed.Id, listed.State, listed.CrewId));
        await order.Apply(ByCrew(WorkOrderAction.Arrive, "c1"));
        await order.Apply(ByCrew(WorkOrderAction.Resolve, "c1"));
        Assert.Empty((await silo.Grain<IFieldCrewGrain>("c1").Get())!.CurrentOrders);
    }

    [Fact]
    public async Task An_order_reassigned_just_before_a_crash_is_on_the_new_crews_PDA_and_off_the_old_ones()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "near", home: East(1));
        await RegisterCrew(silo, "far", home: East(20));
        Assert.Equal("near", (await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault())).CrewId);
        await silo.RestartAsync(); // everything stored: "near" lists the offer
        await silo.Grain<IWorkOrderGrain>("o-1").Assign("far", Dispatcher, "the near crew has no ladder");

        await silo.CrashAsync();

        Assert.Contains("o-1", (await silo.Grain<IFieldCrewGrain>("far").Get())!.QueuedOrders);
        await Eventually.True(async () => !(await silo.Grain<IFieldCrewGrain>("near").Get())!.QueuedOrders.Contains("o-1"), "the old crew's PDA dropped the order");
        Assert.Equal("far", Assert.Single((await silo.Grain<IOpenOrdersGrain>(Region).List(new WorkOrderQuery())).Items).CrewId);
    }

    [Fact]
    public async Task An_order_waiting_for_a_crew_when_the_silo_crashed_is_offered_to_the_first_crew_on_shift_after_it()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        Assert.Equal(WorkOrderState.Created, (await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault(region: QuietRegion))).State);

        await silo.CrashAsync();
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await RegisterCrew(silo, "c1", region: QuietRegion);
        silo.Advance(TimeSpan.FromSeconds(1)); // dispatch's next backlog round

        await Eventually.True(async () => (await order.Get())!.State == WorkOrderState.Dispatched, "the waiting order offered to the new crew");
        Assert.Equal("c1", (await order.Get())!.CrewId);
    }

    [Fact]
    public async Task A_crew_registered_just_before_a_crash_gets_the_next_order_of_its_region()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1", region: QuietRegion);

        await silo.CrashAsync();

        Assert.Equal("c1", (await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault(region: QuietRegion))).CrewId);
    }

    [Fact]
    public async Task An_outage_inferred_just_before_a_crash_is_on_the_outage_board_and_its_repair_order_in_the_index()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await OutageScenario.ImportTopologyAsync(silo);
        await OutageScenario.SendAsync(silo, OutageScenario.Events(silo, 1, 30, Ami.MeterEventType.LastGasp));
        var outageId = (await silo.Grain<IAreaPowerGrain>(OutageScenario.Area(1)).Get()).OutageId!;
        var repairId = (await silo.Grain<IOutageGrain>(outageId).Get())!.RepairOrderId!;
        await silo.CrashAsync();

        var board = await silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery(TransformerAreaId: OutageScenario.Area(1)));
        Assert.Equal(outageId, Assert.Single(board.Items).Id);
        var region = (await silo.Grain<IWorkOrderGrain>(repairId).Get())!.Region;
        Assert.Contains(repairId, (await silo.Grain<IOpenOrdersGrain>(region).List(new WorkOrderQuery())).Items.Select(o => o.Id));
    }

    [Fact]
    public async Task Last_gasps_acknowledged_just_before_a_crash_still_count_towards_the_outage_after_it()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await OutageScenario.ImportTopologyAsync(silo);
        // 14 of the area's 50 meters dark: no outage yet (30 % suspect one); their flags are written behind (5 s).
        Assert.Equal(14, (await OutageScenario.SendAsync(silo, OutageScenario.Events(silo, 1, 14, Ami.MeterEventType.LastGasp))).Accepted);

        await silo.CrashAsync();

        await TheFifteenthDarkMeterOpensTheOutageAsync(silo);
    }

    /// <summary>A fault call acknowledged just before a crash, from an area with no outage yet: the area's memory of
    /// the call (written behind) died with the silo, and when the area's outage opened after the restart the call stayed
    /// a repair of its own beside the outage's, a second crew sent to one fault. It folds in as it does without a crash.</summary>
    [Fact]
    public async Task A_fault_call_acknowledged_just_before_a_crash_folds_into_the_outage_inferred_after_it()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await OutageScenario.ImportTopologyAsync(silo);
        var call = await silo.Grain<IWorkOrderGrain>("WO-EARLY-1").Create(new NewWorkOrder(
            WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, "agent:95598-3", "没电了 / no power", CustomerId: OutageScenario.Customer(1)));
        Assert.Equal(FaultCallVerdict.Unknown, call.Classification);

        await silo.CrashAsync();
        silo.Advance(TimeSpan.FromMinutes(2)); // the head-end's last gasps come minutes after the call
        await OutageScenario.SendAsync(silo, OutageScenario.Events(silo, 1, 30, Ami.MeterEventType.LastGasp));

        var outageId = (await silo.Grain<IAreaPowerGrain>(OutageScenario.Area(1)).Get()).OutageId!;
        var order = silo.Grain<IWorkOrderGrain>("WO-EARLY-1");
        await Eventually.True(async () => (await order.Get())!.State == WorkOrderState.Merged, "the call folded into the outage");
        Assert.Equal((outageId, FaultCallVerdict.InOutage), ((await order.Get())!.MergedInto, (await order.Get())!.Classification));
        await Eventually.True(async () => (await silo.Grain<IOutageGrain>(outageId).Get())!.MergedCalls == 1, "the folded call is counted");
    }

    /// <summary>Calls merged into an outage just before a crash: the outage's count of them is written behind, and after
    /// the restart it stayed short of them for good (0 with 5 orders merged into it). The orders' recovery counts them
    /// again, once: a clean restart after it, which tells them again, adds nothing.</summary>
    [Fact]
    public async Task Calls_merged_into_an_outage_just_before_a_crash_are_counted_once_after_it()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await OutageScenario.ImportTopologyAsync(silo);
        await OutageScenario.SendAsync(silo, OutageScenario.Events(silo, 1, 30, Ami.MeterEventType.LastGasp));
        var outageId = (await silo.Grain<IAreaPowerGrain>(OutageScenario.Area(1)).Get()).OutageId!;
        await silo.RestartAsync(); // the outage stored with no call yet
        foreach (var n in Enumerable.Range(1, 5))
        {
            var call = await silo.Grain<IWorkOrderGrain>($"WO-CALL-{n}").Create(new NewWorkOrder(
                WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, "agent:95598-3", "没电了 / no power", CustomerId: OutageScenario.Customer(n)));
            Assert.Equal(WorkOrderState.Merged, call.State);
        }

        await silo.CrashAsync();

        await Eventually.True(async () => (await silo.Grain<IOutageGrain>(outageId).Get())!.MergedCalls == 5, "the five merged calls counted after the crash");
        await silo.RestartAsync();
        Assert.Equal(5, (await silo.Grain<IOutageGrain>(outageId).Get())!.MergedCalls);
        await silo.Grain<IWorkOrderGrain>("WO-CALL-6").Create(new NewWorkOrder(
            WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, "agent:95598-3", "没电了 / no power", CustomerId: OutageScenario.Customer(6)));
        await Eventually.True(async () => (await silo.Grain<IOutageGrain>(outageId).Get())!.MergedCalls == 6, "a later call counted");
    }

    [Fact]
    public async Task A_reading_acknowledged_just_before_a_crash_is_the_meters_last_reading_after_it()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await OutageScenario.ImportTopologyAsync(silo);
        var at = silo.Clock.GetUtcNow().ToOffset(TimeSpan.FromHours(8));
        var reading = new Ami.MeterEvent(OutageScenario.Meter(3), "r-0900", Ami.MeterEventType.Reading, at, Kwh: 0.75, Voltage: 229.5);
        Assert.Equal(1, (await OutageScenario.SendAsync(silo, [reading])).Accepted);

        await silo.CrashAsync();

        var last = await silo.Grain<PowerService.Grains.Energy.IAreaEnergyGrain>(OutageScenario.Area(1)).GetLastReading(OutageScenario.Meter(3));
        Assert.Equal(reading, last);
        Assert.Equal(TimeSpan.FromHours(8), last!.At.Offset);
    }

    [Fact]
    public async Task The_meter_event_log_is_emptied_after_its_retention_and_what_it_held_stays_stored()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Ingestion.LogRetention = TimeSpan.FromSeconds(30));
        await OutageScenario.ImportTopologyAsync(silo);
        await OutageScenario.SendAsync(silo, OutageScenario.Events(silo, 1, 14, Ami.MeterEventType.LastGasp));
        Assert.NotEmpty(await silo.Storage.ReadLogAsync(Ami.MeterEventLog.Name, 0, 10));

        for (var i = 0; i < 4; i++)
        {
            silo.Advance(TimeSpan.FromSeconds(15)); // the flags are written 5 s after the change, the log trimmed every 15 s
            await Task.Delay(50);
        }
        await Eventually.True(async () => (await silo.Storage.ReadLogAsync(Ami.MeterEventLog.Name, 0, 10)).Count == 0, "the log is emptied");
        await silo.CrashAsync();

        await TheFifteenthDarkMeterOpensTheOutageAsync(silo);
    }

    /// <summary>The retention counts from when a record was appended, not from the silo's start: a silo restarted every
    /// few minutes in a storm never trimmed its log, and each start replayed more (80, 4,290, 8,110, 21,530 events).</summary>
    [Fact]
    public async Task The_meter_event_logs_retention_counts_from_the_append_across_a_restart()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Ingestion.LogRetention = TimeSpan.FromSeconds(30));
        await OutageScenario.ImportTopologyAsync(silo);
        await OutageScenario.SendAsync(silo, OutageScenario.Events(silo, 1, 14, Ami.MeterEventType.LastGasp));
        silo.Advance(TimeSpan.FromSeconds(20)); // the flags are written 5 s after the change
        await Task.Delay(50);

        await silo.CrashAsync();
        await Task.Delay(100); // the trim's timer starts after the replay
        for (var i = 0; i < 3; i++)
        {
            silo.Advance(TimeSpan.FromSeconds(5)); // to 35 s after the append, 15 s after the start: one trim tick
            await Task.Delay(50);
        }

        await Eventually.True(async () => (await silo.Storage.ReadLogAsync(Ami.MeterEventLog.Name, 0, 10)).Count == 0, "the log is emptied 30 s after the append");
        await TheFifteenthDarkMeterOpensTheOutageAsync(silo);
    }

    /// <summary>Meter 15 goes dark: with meters 1–14 still counted, 15 of the area's 50 open its outage.</summary>
    private static async Task TheFifteenthDarkMeterOpensTheOutageAsync(WorkflowSilo silo)
    {
        await OutageScenario.SendAsync(silo, OutageScenario.Events(silo, 15, 15, Ami.MeterEventType.LastGasp));
        var area = await silo.Grain<IAreaPowerGrain>(OutageScenario.Area(1)).Get();
        Assert.Equal((15, "OUT-TA-000001-1"), (area.DarkMeters, area.OutageId));
    }

    [Fact]
    public async Task A_meter_event_log_shorter_than_four_times_the_areas_write_behind_is_refused_at_start()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => WorkflowSilo.StartAsync(o => o.Ingestion.LogRetention = TimeSpan.FromSeconds(10)));

        Assert.Contains("LogRetention is at least 20 s", error.Message);
    }

    [Fact]
    public async Task A_planned_outage_scheduled_just_before_a_crash_is_on_the_calendar()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        await silo.Grain<IPlannedOutageGrain>("PO-1").Plan(PlannedGrid.Request(silo, PlannedGrid.Week, feederId: "F-1"), dryRun: false);

        await silo.CrashAsync();

        var calendar = await silo.Grain<IPlannedOutageCalendarGrain>(IPlannedOutageCalendarGrain.Key).List(new PlannedOutageQuery());
        Assert.Equal("PO-1", Assert.Single(calendar.Items).Id);
    }

    [Fact]
    public async Task The_checkpoint_trails_the_journal_by_at_least_the_lag_so_a_crash_replays_only_the_last_changes()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var started = silo.Clock.GetUtcNow();
        var checkpoint = silo.Grain<IRecoveryCheckpointGrain>(ViewRecovery.CheckpointKey);
        Assert.NotNull(await checkpoint.Get()); // a new store starts with the checkpoint at its end: nothing before it to replay
        await RegisterCrew(silo, "c1");
        await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault());
        var afterOrder = await silo.Storage.LastEventSequenceAsync();

        await Eventually.True(async () =>
        {
            silo.Advance(TimeSpan.FromSeconds(15));
            return await checkpoint.Get() >= afterOrder;
        }, "the checkpoint passed the order's events");
        // The first sample after the order is taken at the 15 s tick and is 45 s old (the lag) at the 60 s one.
        Assert.True(silo.Clock.GetUtcNow() - started >= TimeSpan.FromSeconds(60), $"the checkpoint passed the order after {silo.Clock.GetUtcNow() - started}");

        await silo.Grain<IWorkOrderGrain>("o-2").Create(Fault());
        await silo.CrashAsync();

        Assert.Equal(["o-1", "o-2"], (await silo.Grain<IFieldCrewGrain>("c1").Get())!.QueuedOrders);
        Assert.True(await silo.Grain<IRecoveryCheckpointGrain>(ViewRecovery.CheckpointKey).Get() >= afterOrder, "the checkpoint survives the crash");
    }

    [Fact]
    public async Task A_crew_that_went_off_shift_half_a_minute_before_a_crash_is_offered_nothing_after_it()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1", region: QuietRegion);
        silo.Advance(TimeSpan.FromSeconds(1)); // dispatch stores its roster with c1 on shift; the next save is 30 s on
        await silo.Grain<IFieldCrewGrain>("c1").SetStatus(CrewStatus.OffShift, "crew:c1");
        for (var second = 0; second < 29; second++)
        {
            silo.Advance(TimeSpan.FromSeconds(1)); // the checkpoint's ticks at 15 s and 30 s run on the way
            await Task.Delay(5);
        }

        await silo.CrashAsync();

        var order = await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault(region: QuietRegion));
        Assert.Equal((WorkOrderState.Created, (string?)null), (order.State, order.CrewId));
    }

    [Fact]
    public async Task After_a_clean_restart_the_views_are_as_they_were()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1");
        await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault());
        await silo.Grain<IWorkOrderGrain>("o-1").Apply(ByCrew(WorkOrderAction.Accept, "c1"));
        var before = await silo.Grain<IFieldCrewGrain>("c1").Get();

        await silo.RestartAsync();

        var after = (await silo.Grain<IFieldCrewGrain>("c1").Get())!;
        Assert.Equal(before!.CurrentOrders, after.CurrentOrders);
        Assert.Equal(["Created", "Dispatched", "Accepted"], await EventTypes(silo.Grain<IWorkOrderGrain>("o-1"))); // telling again changed no order
    }
}
