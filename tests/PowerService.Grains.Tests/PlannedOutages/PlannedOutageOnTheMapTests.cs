using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Grains.Ami;
using PowerService.Grains.Indicators;
using PowerService.Grains.Notices;
using PowerService.Grains.Outages;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.Tests.Notices;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.PlannedOutages.PlannedGrid;

namespace PowerService.Grains.Tests.PlannedOutages;

/// <summary>A planned outage that starts is an outage like any other on the map and the board: its customers, its ETR
/// (the planned end), last gasps and fault calls inside it; its customers, told a week ahead, hear only of the
/// restoration.</summary>
public sealed class PlannedOutageOnTheMapTests : IAsyncLifetime
{
    private WorkflowSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = await WorkflowSilo.StartAsync();
        await ImportAsync(_silo);
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private IPlannedOutageGrain Planned(string id) => _silo.Grain<IPlannedOutageGrain>(id);

    private IOutageGrain Outage(string id) => _silo.Grain<IOutageGrain>(id);

    [Fact]
    public async Task Starting_opens_a_planned_outage_with_its_customers_and_the_planned_end_as_ETR_and_the_close_out_restores_it_telling_only_of_the_restoration()
    {
        var planned = (await Planned("PO-1").Plan(Request(_silo, Week, feederId: "F-1"), dryRun: false)).Outage!;
        _silo.Advance(Week);
        Assert.Null(await Outage("OUT-P-PO-1").Get());

        var started = await Planned("PO-1").Start(_silo.Clock.GetUtcNow(), "crew:C-12");

        Assert.Equal("OUT-P-PO-1", started.OutageId);
        var outage = (await Outage("OUT-P-PO-1").Get())!;
        Assert.Equal((OutageKind.Planned, OutageState.Confirmed, "F-1", 5, planned.PlannedEnd, (string?)null),
            (outage.Kind, outage.State, outage.FeederId, outage.AffectedCustomers, outage.EstimatedRestorationAt, outage.RepairOrderId));
        Assert.Equal(["TA-1", "TA-2"], outage.TransformerAreaIds);
        Assert.Equal(["CU-13", "CU-12"], outage.ImportantCustomers.OrderByDescending(c => c.Importance).Select(c => c.Id));
        Assert.Contains("Replace the 10 kV switch", outage.Cause, StringComparison.Ordinal);
        var board = await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery(Region: "R1"));
        Assert.Equal(("OUT-P-PO-1", OutageKind.Planned), (Assert.Single(board.Items).Id, board.Items[0].Kind));
        Assert.Equal("OUT-P-PO-1", (await _silo.Grain<IAreaPowerGrain>("TA-2").Get()).OutageId);

        _silo.Advance(TimeSpan.FromHours(4));
        await Planned("PO-1").Complete(_silo.Clock.GetUtcNow(), "crew:C-12");

        Assert.Equal(OutageState.Restored, (await Outage("OUT-P-PO-1").Get())!.State);
        Assert.Empty((await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery(Region: "R1"))).Items);
        Assert.Null((await _silo.Grain<IAreaPowerGrain>("TA-2").Get()).OutageId);
        await Eventually.True(() =>
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            return Delivered("OUT-P-PO-1").Count >= 5;
        }, "the five customers of F-1 were told power is back");
        var delivered = Delivered("OUT-P-PO-1");
        Assert.All(delivered, n => Assert.Equal(nameof(NoticeKind.PowerRestored), n.Kind));
        Assert.Equal(["CU-11", "CU-12", "CU-13", "CU-21", "CU-22"], delivered.Select(n => n.CustomerId).Order(StringComparer.Ordinal));
        // The close-out is the areas' history of record: one entry each, not a second one from the outage.
        foreach (var area in new[] { "TA-1", "TA-2" })
        {
            var ended = (await _silo.Storage.ReadStreamAsync(JournalStreams.Area(area), 0, 100)).Where(e => e.EventType == AreaOutageRecord.EventType).ToList();
            Assert.Equal("PO-1", JsonSerializer.Deserialize<AreaOutageRecord>(Assert.Single(ended).PayloadJson, RecordJson)!.OutageId);
        }
    }

    [Fact]
    public async Task Last_gasps_inside_a_planned_outage_are_absorbed_a_fault_call_merges_into_it_and_meters_coming_back_do_not_end_it()
    {
        await Planned("PO-1").Plan(Request(_silo, Week, areaIds: ["TA-1"]), dryRun: false);
        _silo.Advance(Week);
        await Planned("PO-1").Start(_silo.Clock.GetUtcNow(), Dispatcher);

        await SendAsync(MeterEventType.LastGasp, "gasp", "M-11", "M-12", "M-13");

        var area = await _silo.Grain<IAreaPowerGrain>("TA-1").Get();
        Assert.Equal((3, "OUT-P-PO-1"), (area.DarkMeters, area.OutageId));
        Assert.Equal(["OUT-P-PO-1"], await ActiveOutagesAsync());

        var call = await _silo.Grain<IWorkOrderGrain>("WO-CALL").Create(new NewWorkOrder(
            WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, "agent:95598-3", "没电了 / no power", CustomerId: "CU-11"));
        Assert.Equal(WorkOrderState.Merged, call.State);
        Assert.Equal(1, (await Outage("OUT-P-PO-1").Get())!.MergedCalls);

        // The crew tests the supply for a moment: a meter reports power, the works go on.
        _silo.Advance(TimeSpan.FromMinutes(30));
        await SendAsync(MeterEventType.PowerRestored, "test", "M-11", "M-12", "M-13");
        Assert.Equal(OutageState.Confirmed, (await Outage("OUT-P-PO-1").Get())!.State);
        _silo.Advance(TimeSpan.FromSeconds(5)); // a gasp at the very instant of the restore would lose the tie to it
        await SendAsync(MeterEventType.LastGasp, "gasp2", "M-11", "M-12", "M-13");

        // Closed out before the meters report, which still flicker as the switch closes: meters dark since before
        // the close-out are not a new unplanned outage.
        _silo.Advance(TimeSpan.FromMinutes(2));
        await Planned("PO-1").Complete(_silo.Clock.GetUtcNow(), Dispatcher);
        _silo.Advance(TimeSpan.FromSeconds(20));
        await SendAsync(MeterEventType.LastGasp, "flicker", "M-13");

        Assert.Empty(await ActiveOutagesAsync());
        area = await _silo.Grain<IAreaPowerGrain>("TA-1").Get();
        Assert.Equal((3, (string?)null), (area.DarkMeters, area.OutageId));
        // Their meters still dark, the three customers are not told power is back yet.
        for (var second = 0; second < 10; second++)
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }
        Assert.DoesNotContain(Delivered("OUT-P-PO-1"), n => n.Kind == nameof(NoticeKind.PowerRestored));
        await SendAsync(MeterEventType.PowerRestored, "back", "M-11", "M-12", "M-13");
        Assert.Equal(0, (await _silo.Grain<IAreaPowerGrain>("TA-1").Get()).DarkMeters);
        _silo.Advance(TimeSpan.FromMinutes(3)); // the grace period's check: all three are back, and told so
        await Eventually.True(() =>
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            return Delivered("OUT-P-PO-1").Count(n => n.Kind == nameof(NoticeKind.PowerRestored)) >= 3;
        }, "the three customers of TA-1 were told power is back");
        Assert.Equal(["CU-11", "CU-12", "CU-13"], Delivered("OUT-P-PO-1").Where(n => n.Kind == nameof(NoticeKind.PowerRestored)).Select(n => n.CustomerId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_dispatcher_may_restore_the_planned_outage_on_the_map_and_the_close_out_still_completes_the_plan()
    {
        await Planned("PO-1").Plan(Request(_silo, Week, areaIds: ["TA-3"]), dryRun: false);
        _silo.Advance(Week);
        await Planned("PO-1").Start(_silo.Clock.GetUtcNow(), Dispatcher);
        _silo.Advance(TimeSpan.FromHours(2));

        var started = _silo.Clock.GetUtcNow() - TimeSpan.FromHours(2);
        await Outage("OUT-P-PO-1").Restore(Dispatcher);
        Assert.Null((await _silo.Grain<IAreaPowerGrain>("TA-3").Get()).OutageId);
        // The close-out, recorded an hour later, says the work ended 90 minutes after the start.
        _silo.Advance(TimeSpan.FromHours(1));
        var completed = await Planned("PO-1").Complete(started + TimeSpan.FromMinutes(90), Dispatcher);

        Assert.Equal(PlannedOutageStatus.Completed, completed.Status);
        var outage = (await Outage("OUT-P-PO-1").Get())!;
        Assert.Equal((OutageState.Restored, started + TimeSpan.FromMinutes(90)), (outage.State, outage.RestoredAt));
        // The customers' minutes are the close-out's, not those up to the dispatcher's click: TA-3's one customer, 90.
        await Eventually.True(async () => (await _silo.Grain<IRegionIndicatorsGrain>("R1").Get()).Reliability.Outages == 1, "the outage reached the indicators");
        var reliability = (await _silo.Grain<IRegionIndicatorsGrain>("R1").Get()).Reliability;
        Assert.Equal((1L, 90.0), (reliability.CustomerInterruptions, reliability.PlannedSaidiMinutes * 6));
    }

    /// <summary>The switching operator opens the switch at the planned time; the dispatcher records the start minutes
    /// later. The meters went dark first and opened an unplanned outage beside the planned one: a repair crew sent to
    /// planned work, an "outage detected" text with a 4-hour estimate to customers told a week before, the cut counted
    /// twice. Now meters going dark in a scheduled plan's window start the plan, at the meters' time.</summary>
    [Fact]
    public async Task Meters_going_dark_in_a_plans_window_before_its_start_is_recorded_start_the_plan_instead_of_an_unplanned_outage()
    {
        var planned = (await Planned("PO-1").Plan(Request(_silo, Week, areaIds: ["TA-1"]), dryRun: false)).Outage!;
        _silo.Advance(Week - TimeSpan.FromMinutes(5));
        var switchOpened = _silo.Clock.GetUtcNow();

        await SendAsync(MeterEventType.LastGasp, "switch", "M-11", "M-12", "M-13");

        await Eventually.True(async () => (await _silo.Grain<IAreaPowerGrain>("TA-1").Get()).OutageId == "OUT-P-PO-1", "the plan's outage is the area's");
        var started = (await Planned("PO-1").Get())!;
        Assert.Equal((PlannedOutageStatus.InProgress, (DateTimeOffset?)switchOpened), (started.Status, started.ActualStart));
        Assert.Equal(["OUT-P-PO-1"], await ActiveOutagesAsync());
        Assert.Null(await Outage("OUT-TA-1-1").Get());
        Assert.Equal((planned.PlannedEnd, (string?)null), ((await Outage("OUT-P-PO-1").Get())!.EstimatedRestorationAt, (await Outage("OUT-P-PO-1").Get())!.RepairOrderId));
        for (var second = 0; second < 5; second++)
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }
        Assert.DoesNotContain(NoticeFiles.Read(_silo.NoticeFolder), n => n.Kind == nameof(NoticeKind.OutageDetected));
        // The dispatcher's click comes after: the start is recorded already, and says so.
        var late = await Assert.ThrowsAsync<DomainConflictException>(() => Planned("PO-1").Start(_silo.Clock.GetUtcNow(), Dispatcher));
        Assert.Contains("InProgress", late.Message, StringComparison.Ordinal);
    }

    /// <summary>A plan noticed for one window was started days later, cutting customers told of another day.</summary>
    [Fact]
    public async Task A_start_after_the_planned_end_is_refused_and_meters_dark_after_it_are_an_unplanned_outage()
    {
        var planned = (await Planned("PO-1").Plan(Request(_silo, Week, areaIds: ["TA-1"]), dryRun: false)).Outage!;
        _silo.Advance(planned.PlannedEnd - _silo.Clock.GetUtcNow() + TimeSpan.FromHours(1));

        var refused = await Assert.ThrowsAsync<DomainConflictException>(() => Planned("PO-1").Start(_silo.Clock.GetUtcNow(), Dispatcher));
        Assert.Contains("after its end", refused.Message, StringComparison.Ordinal);
        await SendAsync(MeterEventType.LastGasp, "fault", "M-11", "M-12", "M-13");
        Assert.Equal("OUT-TA-1-1", (await _silo.Grain<IAreaPowerGrain>("TA-1").Get()).OutageId);
        Assert.Equal(PlannedOutageStatus.Scheduled, (await Planned("PO-1").Get())!.Status);
    }

    [Fact]
    public async Task The_outage_owed_by_a_start_is_opened_after_a_restart_and_only_once()
    {
        await Planned("PO-1").Plan(Request(_silo, Week, areaIds: ["TA-3"]), dryRun: false);
        _silo.Advance(Week);
        await Planned("PO-1").Start(_silo.Clock.GetUtcNow(), Dispatcher);
        var opened = (await Outage("OUT-P-PO-1").Get())!;

        await _silo.RestartAsync();
        await Planned("PO-1").Get();

        var after = (await Outage("OUT-P-PO-1").Get())!;
        Assert.Equal((opened.Version, opened.StartedAt), (after.Version, after.StartedAt));
        Assert.Equal("OUT-P-PO-1", (await _silo.Grain<IAreaPowerGrain>("TA-3").Get()).OutageId);
    }

    /// <summary>Meters of TA-1 (the area of the test that sends) send one event each.</summary>
    private async Task SendAsync(MeterEventType type, string tag, params string[] meters)
    {
        var at = _silo.Clock.GetUtcNow();
        var receipt = await _silo.Silo.Services.GetRequiredService<MeterEventIngestion>()
            .SubmitAsync([.. meters.Select(m => new MeterEvent(m, $"{tag}-{m}", type, at))]);
        Assert.Empty(receipt.UnknownMeters);
        // An outage the area inferred would be handed to its feeder a moment later: wait until none is on its way, so
        // that "no new outage" below means none was inferred.
        await Eventually.True(async () => !(await _silo.Grain<IAreaPowerGrain>("TA-1").Get()).OutageOpening, "no outage on its way to the feeder");
    }

    private async Task<IEnumerable<string>> ActiveOutagesAsync() =>
        (await _silo.Grain<IOutageBoardGrain>(OutageBoardGrain.Key).List(new OutageQuery(Region: "R1"))).Items.Select(o => o.Id);

    private List<DeliveredNotice> Delivered(string outageId) => [.. NoticeFiles.Read(_silo.NoticeFolder).Where(n => n.OutageId == outageId)];
}
