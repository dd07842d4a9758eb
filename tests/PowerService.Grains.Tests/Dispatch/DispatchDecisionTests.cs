using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using static PowerService.Grains.Tests.Dispatch.Roster;

namespace PowerService.Grains.Tests.Dispatch;

public sealed class DispatchDecisionTests
{
    [Fact]
    public async Task Picks_the_crew_with_the_skill_for_the_kind_even_when_another_is_nearer()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var dispatch = silo.Grain<IDispatchGrain>("north");
        await dispatch.UpdateCrew(Crew("meter-near", At(1), CrewSkill.Metering));
        await dispatch.UpdateCrew(Crew("repair-far", At(8), CrewSkill.LowVoltageRepair));

        var repair = await dispatch.RequestCrew(Order("o-1", At(0)));
        var verification = await dispatch.RequestCrew(Order("o-2", At(0), WorkOrderKind.MeterVerification));

        Assert.Equal("repair-far", repair?.CrewId);
        Assert.Equal("meter-near", verification?.CrewId);
    }

    [Fact]
    public async Task Never_picks_a_crew_off_shift_by_calendar_or_by_status()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var dispatch = silo.Grain<IDispatchGrain>("north");
        await dispatch.UpdateCrew(Crew("night-shift", At(1), shift: NightShift));
        await dispatch.UpdateCrew(Crew("signed-off", At(2), status: CrewStatus.OffShift));
        await dispatch.UpdateCrew(Crew("on-duty", At(15)));

        var decision = await dispatch.RequestCrew(Order("o-1", At(0)));

        Assert.Equal("on-duty", decision?.CrewId);
    }

    [Fact]
    public async Task Picks_the_nearest_crew_and_reports_its_travel_time()
    {
        await using var silo = await WorkflowSilo.StartAsync(o =>
        {
            o.Dispatch.RoadFactor = 1.5;
            o.Dispatch.TravelSpeedKmh = 30;
        });
        var dispatch = silo.Grain<IDispatchGrain>("north");
        await dispatch.UpdateCrew(Crew("ten-km", At(-10)));
        await dispatch.UpdateCrew(Crew("four-km", At(0, 4)));
        await dispatch.UpdateCrew(Crew("six-km", At(6)));

        var decision = await dispatch.RequestCrew(Order("o-1", At(0)));

        Assert.Equal("four-km", decision?.CrewId);
        Assert.Equal(4 * 1.5 / 30 * 60, decision!.TravelMinutes, 1);
    }

    [Fact]
    public async Task Counts_its_own_decisions_on_a_crew_until_full_then_queues_the_order()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var dispatch = silo.Grain<IDispatchGrain>("north");
        await dispatch.UpdateCrew(Crew("near", At(1), capacity: 1));
        await dispatch.UpdateCrew(Crew("far", At(20), capacity: 2));

        var decisions = new List<DispatchDecision?>();
        for (var i = 0; i < 4; i++)
        {
            decisions.Add(await dispatch.RequestCrew(Order($"o-{i}", At(0))));
        }

        Assert.Equal(["near", "far", "far", null], decisions.Select(d => d?.CrewId));
        var status = await dispatch.GetStatus();
        Assert.Equal(1, status.Backlog);
        Assert.Equal(3, status.Decisions);
    }

    [Fact]
    public async Task A_crew_that_reports_its_load_is_weighed_by_it()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Dispatch.LoadPenaltyMinutes = 20);
        var dispatch = silo.Grain<IDispatchGrain>("north");
        // Two orders ahead at 20 minutes each outweigh 5 km more (about 10 minutes) of road.
        await dispatch.UpdateCrew(Crew("near-busy", At(1), capacity: 5, load: 2));
        await dispatch.UpdateCrew(Crew("far-idle", At(6), capacity: 5));

        var decision = await dispatch.RequestCrew(Order("o-1", At(0)));

        Assert.Equal("far-idle", decision?.CrewId);
    }

    [Fact]
    public async Task Skips_crews_that_rejected_or_let_the_offer_expire()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var dispatch = silo.Grain<IDispatchGrain>("north");
        await dispatch.UpdateCrew(Crew("near", At(1)));
        await dispatch.UpdateCrew(Crew("far", At(9)));

        var decision = await dispatch.RequestCrew(Order("o-1", At(0), excluded: "near"));

        Assert.Equal("far", decision?.CrewId);
    }

    [Fact]
    public async Task An_order_nobody_can_take_waits_in_the_backlog_until_withdrawn()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var dispatch = silo.Grain<IDispatchGrain>("north");
        await dispatch.UpdateCrew(Crew("meter", At(1), CrewSkill.Metering));

        var decision = await dispatch.RequestCrew(Order("o-1", At(0), WorkOrderKind.OnSiteSurvey));
        var queued = await dispatch.GetStatus();
        await dispatch.Withdraw("o-1");

        Assert.Null(decision);
        Assert.Equal(1, queued.Backlog);
        Assert.Equal(0, (await dispatch.GetStatus()).Backlog);
    }

    [Fact]
    public async Task The_roster_survives_a_restart()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await silo.Grain<IDispatchGrain>("north").UpdateCrew(Crew("c-1", At(3)));

        await silo.RestartAsync();
        var decision = await silo.Grain<IDispatchGrain>("north").RequestCrew(Order("o-1", At(0)));

        Assert.Equal("c-1", decision?.CrewId);
    }

    [Fact]
    public async Task A_large_backlog_switches_the_region_to_storm_mode_where_requests_queue()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Dispatch.StormBacklogThreshold = 3);
        var dispatch = silo.Grain<IDispatchGrain>("north");
        for (var i = 0; i < 3; i++)
        {
            await dispatch.RequestCrew(Order($"waiting-{i}", At(0)));
        }
        await dispatch.UpdateCrew(Crew("c-1", At(1)));

        var decision = await dispatch.RequestCrew(Order("o-new", At(0)));

        Assert.Null(decision);
        var status = await dispatch.GetStatus();
        Assert.True(status.StormMode);
        Assert.Equal(4, status.Backlog);
    }

    [Theory]
    [InlineData("", "orderId")]
    [InlineData("bad-location", "location")]
    public async Task Rejects_a_request_with_a_bad_field(string orderId, string field)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var request = Order(orderId, orderId == "" ? At(0) : new global::PowerService.Grains.Topology.GeoPoint(95, 0));

        var error = await Assert.ThrowsAsync<InvalidFieldException>(() => silo.Grain<IDispatchGrain>("north").RequestCrew(request));

        Assert.Equal(field, error.Field);
    }
}
