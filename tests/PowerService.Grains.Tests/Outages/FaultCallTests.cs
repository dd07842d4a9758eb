using PowerService.Grains.Ami;
using PowerService.Grains.Crews;
using PowerService.Grains.Indicators;
using PowerService.Grains.Outages;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.Outages.OutageScenario;
using static PowerService.Grains.Tests.WorkOrders.Scenario;

namespace PowerService.Grains.Tests.Outages;

/// <summary>Customers' fault calls on a storm day: inside a known outage they merge into it (no duplicate repair
/// orders); elsewhere each gets its own repair; a meter that reports power makes it a verify / customer-side case.</summary>
public sealed class FaultCallTests : IAsyncLifetime
{
    private WorkflowSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = await WorkflowSilo.StartAsync();
        await ImportTopologyAsync(_silo);
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private Task<WorkOrderView> CallAsync(string orderId, int customer) =>
        _silo.Grain<IWorkOrderGrain>(orderId).Create(new NewWorkOrder(
            WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, "agent:95598-3", "没电了 / no power", CustomerId: Customer(customer)));

    [Fact]
    public async Task Calls_inside_an_outage_merge_into_it_and_confirm_it_while_a_call_elsewhere_gets_its_own_repair()
    {
        await SendAsync(_silo, Events(_silo, 1, 20, MeterEventType.LastGasp));
        var outageId = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).OutageId!;

        var calls = await Task.WhenAll(Enumerable.Range(1, 30).Select(c => CallAsync($"WO-CALL-{c}", c)));
        var elsewhere = await CallAsync("WO-CALL-300", 300);

        Assert.All(calls, c => Assert.Equal((WorkOrderState.Merged, outageId, FaultCallVerdict.InOutage), (c.State, c.MergedInto, c.Classification)));
        Assert.All(calls, c => Assert.DoesNotContain(c.SlaClocks, k => k.State == SlaClockState.Running));
        var outage = (await _silo.Grain<IOutageGrain>(outageId).Get())!;
        Assert.Equal((30, OutageState.Confirmed), (outage.MergedCalls, outage.State));
        Assert.Equal((WorkOrderState.Created, (string?)null, FaultCallVerdict.Unknown), (elsewhere.State, elsewhere.MergedInto, elsewhere.Classification));
        var history = await _silo.Grain<IWorkOrderGrain>("WO-CALL-7").GetHistory();
        Assert.Equal(["Created", "Merged"], history.Select(e => e.Type));
    }

    [Fact]
    public async Task A_customer_calling_again_before_the_repair_folds_into_their_open_order_and_after_it_opens_a_new_one()
    {
        var first = await CallAsync("WO-REPEAT-1", 300);
        var again = await CallAsync("WO-REPEAT-2", 300);
        var neighbour = await CallAsync("WO-REPEAT-N", 301);

        Assert.Equal((WorkOrderState.Created, (string?)null), (first.State, first.MergedInto));
        Assert.Equal((WorkOrderState.Merged, "WO-REPEAT-1"), (again.State, again.MergedInto));
        Assert.DoesNotContain(again.SlaClocks, k => k.State == SlaClockState.Running);
        Assert.Null(neighbour.MergedInto); // another customer's fault is their own
        Assert.Equal(["Created", "Merged"], (await _silo.Grain<IWorkOrderGrain>("WO-REPEAT-2").GetHistory()).Select(e => e.Type));

        // A crew's own report from the field is not a repeat call.
        var field = await _silo.Grain<IWorkOrderGrain>("WO-REPEAT-F").Create(new NewWorkOrder(
            WorkOrderKind.FaultRepair, IntakeChannel.Field, "crew:C-1", "found a second fault", CustomerId: Customer(300)));
        Assert.Null(field.MergedInto);

        // Once the first is withdrawn (or repaired), the next call is a new fault.
        await _silo.Grain<IWorkOrderGrain>("WO-REPEAT-1").Apply(new WorkOrderCommand(WorkOrderAction.Cancel, "agent:95598-3"));
        await _silo.Grain<IWorkOrderGrain>("WO-REPEAT-F").Apply(new WorkOrderCommand(WorkOrderAction.Cancel, "agent:95598-3"));
        var later = await CallAsync("WO-REPEAT-3", 300);
        Assert.Null(later.MergedInto);
    }

    [Fact]
    public async Task One_customer_account_has_at_most_20_open_self_service_requests_while_the_hotline_still_takes_calls()
    {
        NewWorkOrder Request(IntakeChannel channel) => new(WorkOrderKind.Complaint, channel, "customer:CU", "a complaint", CustomerId: Customer(302));
        for (var i = 1; i <= 20; i++)
        {
            await _silo.Grain<IWorkOrderGrain>($"WO-APP-{i}").Create(Request(IntakeChannel.App));
            if (i % 10 == 0)
            {
                _silo.Advance(TimeSpan.FromHours(24)); // ten a day at most (the next test)
            }
        }

        var refused = await Assert.ThrowsAsync<DomainConflictException>(() => _silo.Grain<IWorkOrderGrain>("WO-APP-21").Create(Request(IntakeChannel.WeChat)));
        var byPhone = await _silo.Grain<IWorkOrderGrain>("WO-PHONE-1").Create(Request(IntakeChannel.Hotline95598));

        Assert.Contains("20 open self-service requests", refused.Message);
        Assert.Null(await _silo.Grain<IWorkOrderGrain>("WO-APP-21").Get()); // nothing stored
        Assert.Equal(WorkOrderState.Created, byPhone.State);
        // One app request done: 19 self-service requests and the hotline's call are open, and the hotline's does not count.
        await _silo.Grain<IWorkOrderGrain>("WO-APP-1").Apply(new WorkOrderCommand(WorkOrderAction.Cancel, "customer:CU"));
        Assert.Equal(WorkOrderState.Created, (await _silo.Grain<IWorkOrderGrain>("WO-APP-21").Create(Request(IntakeChannel.App))).State);
    }

    /// <summary>A script creating a complaint and withdrawing it at once never had more than one open: 60 complaints in
    /// 12 s from one account (the region's complaints per million customers ×61). Ten self-service requests a day, open
    /// or not, counted durably; the hotline still takes the customer's call.</summary>
    [Fact]
    public async Task One_customer_account_makes_at_most_10_self_service_requests_a_day_withdrawn_or_not()
    {
        NewWorkOrder Request(IntakeChannel channel) => new(WorkOrderKind.Complaint, channel, "customer:CU", "a complaint", CustomerId: Customer(305));
        for (var i = 1; i <= 10; i++)
        {
            await _silo.Grain<IWorkOrderGrain>($"WO-DAY-{i}").Create(Request(IntakeChannel.App));
            await _silo.Grain<IWorkOrderGrain>($"WO-DAY-{i}").Apply(new WorkOrderCommand(WorkOrderAction.Cancel, "customer:CU"));
            _silo.Advance(TimeSpan.FromMinutes(1));
        }

        var refused = await Assert.ThrowsAsync<DomainConflictException>(() => _silo.Grain<IWorkOrderGrain>("WO-DAY-11").Create(Request(IntakeChannel.App)));
        Assert.Contains("made 10 requests through the app in the last 24 hours", refused.Message);
        Assert.Null(await _silo.Grain<IWorkOrderGrain>("WO-DAY-11").Get());
        Assert.Equal(WorkOrderState.Created, (await _silo.Grain<IWorkOrderGrain>("WO-DAY-PHONE").Create(Request(IntakeChannel.Hotline95598))).State);

        // A day after the first, one more may be made.
        _silo.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(10));
        Assert.Equal(WorkOrderState.Created, (await _silo.Grain<IWorkOrderGrain>("WO-DAY-11").Create(Request(IntakeChannel.App))).State);
        await Assert.ThrowsAsync<DomainConflictException>(() => _silo.Grain<IWorkOrderGrain>("WO-DAY-12").Create(Request(IntakeChannel.App)));
    }

    [Fact]
    public async Task Requests_of_one_customer_sent_at_the_same_moment_count_each_other()
    {
        // A script sending 25 app requests at once stops at the limit like one sending them one by one (ten a day).
        NewWorkOrder Complaint(int i) => new(WorkOrderKind.Complaint, IntakeChannel.App, "customer:CU", $"complaint {i}", CustomerId: Customer(303));
        var flood = await Task.WhenAll(Enumerable.Range(1, 25).Select(async i =>
        {
            try
            {
                await _silo.Grain<IWorkOrderGrain>($"WO-FLOOD-{i}").Create(Complaint(i));
                return true;
            }
            catch (DomainConflictException)
            {
                return false;
            }
        }));

        // Four reports of one fault at once (the app, the hotline, a neighbour's phone in the customer's name): one repair.
        var reports = await Task.WhenAll(Enumerable.Range(1, 4).Select(i => CallAsync($"WO-SAME-{i}", 304)));

        Assert.Equal(10, flood.Count(taken => taken));
        var repair = Assert.Single(reports, r => r.MergedInto is null).Id;
        Assert.All(reports.Where(r => r.Id != repair), r => Assert.Equal((WorkOrderState.Merged, repair), (r.State, r.MergedInto)));
    }

    [Fact]
    public async Task A_fault_call_whose_meter_reports_power_is_a_verify_customer_side_case_not_an_outage()
    {
        await SendAsync(_silo, Events(_silo, 400, 400, MeterEventType.PowerRestored));

        var call = await CallAsync("WO-CALL-400", 400);

        Assert.Equal((FaultCallVerdict.MeterOn, (string?)null), (call.Classification, call.MergedInto));
        Assert.Null((await _silo.Grain<IAreaPowerGrain>(Area(8)).Get()).OutageId);
    }

    /// <summary>The transformer trips; two customers call 40 s later, while their meters' last readings still say power
    /// (the head-end has not delivered the last gasps yet): "meter on, customer side". The last gasps come 5 s later,
    /// stamped at the trip. The calls stayed separate repairs beside the outage (30 of 30 in a head-end's storm). They
    /// fold into it; a neighbour's call whose meter still has power, on another area, stays its own.</summary>
    [Fact]
    public async Task A_call_judged_meter_on_before_the_last_gasps_arrived_folds_into_the_outage_they_open()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored)); // the meters' last word: power
        await SendAsync(_silo, Events(_silo, 400, 400, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(10));
        var tripped = _silo.Clock.GetUtcNow();
        _silo.Advance(TimeSpan.FromSeconds(40));
        var first = await CallAsync("WO-ON-1", 1);
        var second = await CallAsync("WO-ON-2", 2);
        var elsewhere = await CallAsync("WO-ON-400", 400);
        Assert.All([first, second, elsewhere], call => Assert.Equal(FaultCallVerdict.MeterOn, call.Classification));
        _silo.Advance(TimeSpan.FromSeconds(5));

        await SendAsync(_silo, Enumerable.Range(1, 50).Select(n => new MeterEvent(Meter(n), $"trip-{n}", MeterEventType.LastGasp, tripped)));

        var outageId = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).OutageId!;
        foreach (var id in new[] { "WO-ON-1", "WO-ON-2" })
        {
            await Eventually.True(async () => (await _silo.Grain<IWorkOrderGrain>(id).Get())!.State == WorkOrderState.Merged, $"{id} folded into the outage");
            var folded = (await _silo.Grain<IWorkOrderGrain>(id).Get())!;
            Assert.Equal((outageId, FaultCallVerdict.InOutage), (folded.MergedInto, folded.Classification));
        }
        await Eventually.True(async () => (await _silo.Grain<IOutageGrain>(outageId).Get())!.MergedCalls == 2, "both calls counted");
        Assert.Equal((FaultCallVerdict.MeterOn, (string?)null), ((await _silo.Grain<IWorkOrderGrain>("WO-ON-400").Get())!.Classification, (await _silo.Grain<IWorkOrderGrain>("WO-ON-400").Get())!.MergedInto));
    }

    [Fact]
    public async Task Power_evidence_older_than_a_day_proves_nothing()
    {
        await SendAsync(_silo, Events(_silo, 400, 400, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromHours(25));

        var call = await CallAsync("WO-CALL-400", 400);

        Assert.Equal(FaultCallVerdict.Unknown, call.Classification);
    }

    /// <summary>Ten of fifty meters went dark together (a street's fuse): too few for the area to suspect an outage, and
    /// each of twenty callers got a repair order of their own. The first call from a dark meter confirms a partial outage
    /// of those ten meters, its order folds in, and the next calls from them merge; a caller with power does not, and
    /// two dark meters alone are no partial outage.</summary>
    [Fact]
    public async Task A_call_from_a_dark_meter_confirms_a_partial_outage_of_the_meters_dark_with_it_and_the_next_calls_merge()
    {
        await SendAsync(_silo, Events(_silo, 1, 10, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 51, 52, MeterEventType.LastGasp)); // TA-000002: two dark meters only
        Assert.Null((await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).OutageId);

        var first = await CallAsync("WO-FUSE-1", 3);
        var alone = await CallAsync("WO-TWO-1", 51);
        Assert.Equal((WorkOrderState.Created, FaultCallVerdict.Unknown), (first.State, first.Classification));
        _silo.Advance(TimeSpan.FromSeconds(1));

        await Eventually.True(async () => (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId is not null, "a partial outage is opened");
        var partialId = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId!;
        var partial = (await _silo.Grain<IOutageGrain>(partialId).Get())!;
        Assert.Equal((OutageScope.Meters, OutageState.Confirmed, 10, (string?)null), (partial.Scope, partial.State, partial.AffectedCustomers, partial.ParentOutageId));
        Assert.Equal(Enumerable.Range(1, 10).Select(Meter), partial.MeterIds);
        await Eventually.True(async () => (await _silo.Grain<IWorkOrderGrain>("WO-FUSE-1").Get())!.State == WorkOrderState.Merged, "the first call folds in");
        var next = await Task.WhenAll(Enumerable.Range(4, 5).Select(c => CallAsync($"WO-FUSE-{c}", c)));
        Assert.All(next, c => Assert.Equal((WorkOrderState.Merged, partialId), (c.State, c.MergedInto)));
        var lit = await CallAsync("WO-LIT-1", 20);
        Assert.NotEqual(WorkOrderState.Merged, lit.State);
        Assert.Null((await _silo.Grain<IAreaPowerGrain>(Area(2)).Get()).NestedOutageId);
        Assert.Equal(WorkOrderState.Created, (await _silo.Grain<IWorkOrderGrain>("WO-TWO-1").Get())!.State);

        await SendAsync(_silo, Events(_silo, 1, 10, MeterEventType.PowerRestored));
        Assert.Equal(OutageState.Restored, (await _silo.Grain<IOutageGrain>(partialId).Get())!.State);
    }

    /// <summary>A street's fuse blows (a partial outage of five meters, confirmed by a call); ten minutes later the whole
    /// transformer trips; twenty minutes after that everything is back. Fifty customers lost supply once each: the area
    /// outage counted the five again, 55 interruptions and their ten minutes twice in SAIFI and SAIDI.</summary>
    [Fact]
    public async Task Customers_of_a_partial_outage_cut_again_by_their_areas_outage_count_as_one_interruption_each()
    {
        await SendAsync(_silo, Events(_silo, 36, 40, MeterEventType.LastGasp));
        await CallAsync("WO-FUSE-36", 36);
        _silo.Advance(TimeSpan.FromSeconds(1));
        await Eventually.True(async () => (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId is not null, "a partial outage is opened");
        _silo.Advance(TimeSpan.FromMinutes(10));
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp, "storm"));
        var areaOutage = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).OutageId!;
        Assert.Equal(50, (await _silo.Grain<IOutageGrain>(areaOutage).Get())!.AffectedCustomers); // all 50 are out now
        _silo.Advance(TimeSpan.FromMinutes(20));

        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));

        ServiceIndicators? seen = null;
        await Eventually.True(async () => (seen = await _silo.Grain<IRegionIndicatorsGrain>(IndicatorScopes.System).Get()).Reliability.Outages == 2,
            "both outages are counted");
        Assert.Equal(50L, seen!.Reliability.CustomerInterruptions);
        // The five: 30 minutes from the fuse (and the call's second); the other 45: the area's 20 minutes.
        Assert.Equal(Math.Round((5 * (30 + (1 / 60.0))) + (45 * 20), 2), seen.Reliability.CustomerInterruptionMinutes);
    }

    /// <summary>An area held one nested or partial outage at a time: with a street's partial outage open, meters left
    /// dark when the area's outage was restored got no nested outage (told of an outage, then of nothing), and with a
    /// nested outage open no partial outage was found (a repair order per caller again).</summary>
    [Fact]
    public async Task An_area_keeps_a_partial_and_a_nested_outage_side_by_side()
    {
        await SendAsync(_silo, Events(_silo, 36, 40, MeterEventType.LastGasp));
        await CallAsync("WO-FUSE-36", 36);
        _silo.Advance(TimeSpan.FromSeconds(1));
        await Eventually.True(async () => (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId is not null, "a partial outage is opened");
        var partial = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId!;

        _silo.Advance(TimeSpan.FromMinutes(10));
        await SendAsync(_silo, Events(_silo, 1, 20, MeterEventType.LastGasp, "storm"));
        var areaOutage = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).OutageId!;
        await _silo.Grain<IOutageGrain>(areaOutage).Restore("dispatcher:li");
        await SendAsync(_silo, Events(_silo, 1, 18, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(3));

        await Eventually.True(async () => (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId is { } id && id != partial, "a nested outage is opened beside the partial one");
        var nested = (await _silo.Grain<IOutageGrain>((await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId!).Get())!;
        Assert.Equal([Meter(19), Meter(20)], nested.MeterIds);
        Assert.Equal(areaOutage, nested.ParentOutageId);
        Assert.Equal(Enumerable.Range(36, 5).Select(Meter), (await _silo.Grain<IOutageGrain>(partial).Get())!.MeterIds); // unchanged
        Assert.Equal(nested.Id, (await CallAsync("WO-DARK-19", 19)).MergedInto);
        Assert.Equal(partial, (await CallAsync("WO-FUSE-37", 37)).MergedInto);

        // And a second street's fuse while both are open is a partial outage of its own.
        await SendAsync(_silo, Events(_silo, 44, 47, MeterEventType.LastGasp));
        await CallAsync("WO-FUSE-45", 45);
        _silo.Advance(TimeSpan.FromSeconds(1));
        await Eventually.True(async () => (await _silo.Grain<IWorkOrderGrain>("WO-FUSE-45").Get())!.State == WorkOrderState.Merged, "the call folds into a second partial outage");
        var second = (await _silo.Grain<IWorkOrderGrain>("WO-FUSE-45").Get())!.MergedInto!;
        Assert.Equal(Enumerable.Range(44, 4).Select(Meter), (await _silo.Grain<IOutageGrain>(second).Get())!.MeterIds);

        await SendAsync(_silo, Events(_silo, 19, 20, MeterEventType.PowerRestored, "back"));
        await SendAsync(_silo, Events(_silo, 36, 40, MeterEventType.PowerRestored, "back"));
        Assert.Equal((OutageState.Restored, OutageState.Restored, OutageState.Confirmed),
            ((await _silo.Grain<IOutageGrain>(nested.Id).Get())!.State, (await _silo.Grain<IOutageGrain>(partial).Get())!.State, (await _silo.Grain<IOutageGrain>(second).Get())!.State));
    }

    [Fact]
    public async Task A_customer_on_a_meter_of_a_nested_outage_merges_into_it_a_neighbour_with_power_does_not()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await SendAsync(_silo, Events(_silo, 1, 48, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(3));
        await Eventually.True(async () => (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId is not null, "nested outage");
        var nested = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId;

        var dark = await CallAsync("WO-CALL-49", 49);
        var lit = await CallAsync("WO-CALL-10", 10);

        Assert.Equal((WorkOrderState.Merged, nested), (dark.State, dark.MergedInto));
        Assert.Equal(FaultCallVerdict.MeterOn, lit.Classification);
    }

    [Fact]
    public async Task Calls_made_before_the_last_gasps_arrived_fold_into_the_outage_inferred_after_them_unless_a_crew_is_on_its_way()
    {
        var early = await CallAsync("WO-EARLY-1", 1);
        await CallAsync("WO-EARLY-2", 2);
        await RegisterCrew(_silo, "C-EARLY", early.Region);
        var travelling = _silo.Grain<IWorkOrderGrain>("WO-EARLY-2");
        await travelling.Assign("C-EARLY", Dispatcher);
        await travelling.Apply(ByCrew(WorkOrderAction.Accept, "C-EARLY"));
        await travelling.Apply(ByCrew(WorkOrderAction.StartTravel, "C-EARLY"));
        _silo.Advance(TimeSpan.FromSeconds(1)); // dispatch's backlog round offers the waiting call to the new crew
        await Eventually.True(async () => (await _silo.Grain<IWorkOrderGrain>("WO-EARLY-1").Get())!.State == WorkOrderState.Dispatched, "the earlier call offered to the crew");
        _silo.Advance(TimeSpan.FromMinutes(4)); // the head-end's last gasps come minutes after the calls, before the offer lapses

        await SendAsync(_silo, Events(_silo, 1, 30, MeterEventType.LastGasp));

        var outageId = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).OutageId!;
        var order = _silo.Grain<IWorkOrderGrain>("WO-EARLY-1");
        await Eventually.True(async () => (await order.Get())!.State == WorkOrderState.Merged, "the earlier call folded into the outage");
        var folded = (await order.Get())!;
        Assert.Equal((outageId, outageId, FaultCallVerdict.InOutage), (folded.MergedInto, folded.OutageId, folded.Classification));
        Assert.DoesNotContain(folded.SlaClocks, k => k.State == SlaClockState.Running);
        Assert.Equal(["Created", "Dispatched", "Merged"], await EventTypes(order)); // offered to the crew once it registered
        Assert.Equal(WorkOrderState.EnRoute, (await travelling.Get())!.State); // a crew on its way finishes its job
        await Eventually.True(async () => !(await _silo.Grain<IFieldCrewGrain>("C-EARLY").Get())!.CurrentOrders.Contains("WO-EARLY-1"), "the crew let go of the folded call");
        await Eventually.True(async () => (await _silo.Grain<IOutageGrain>(outageId).Get())!.MergedCalls == 1, "the folded call is counted");
        Assert.Equal(OutageState.Confirmed, (await _silo.Grain<IOutageGrain>(outageId).Get())!.State);
    }

    [Fact]
    public async Task A_call_more_than_half_an_hour_before_the_outage_began_stays_a_repair_of_its_own()
    {
        await CallAsync("WO-OLD-1", 1);
        _silo.Advance(TimeSpan.FromMinutes(31));

        await SendAsync(_silo, Events(_silo, 1, 15, MeterEventType.LastGasp));

        var outage = (await _silo.Grain<IOutageGrain>((await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).OutageId!).Get())!;
        await Eventually.True(async () => await _silo.Grain<IWorkOrderGrain>(outage.RepairOrderId!).Get() is not null, "the outage's repair order");
        var old = (await _silo.Grain<IWorkOrderGrain>("WO-OLD-1").Get())!;
        Assert.Equal((WorkOrderState.Created, (string?)null, FaultCallVerdict.Unknown), (old.State, old.MergedInto, old.Classification));
        Assert.Equal((0, OutageState.Suspected), (outage.MergedCalls, outage.State));
    }
}
