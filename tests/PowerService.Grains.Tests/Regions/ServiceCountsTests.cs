using PowerService.Grains.Crews;
using PowerService.Grains.Regions;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.WorkOrders.Scenario;

namespace PowerService.Grains.Tests.Regions;

/// <summary>The region's live counts follow its orders and crews change by change.</summary>
public sealed class ServiceCountsTests
{
    [Fact]
    public async Task Counts_follow_orders_through_their_lifecycle_and_crews_through_their_status()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1");
        var counts = silo.Grain<IServiceCountsGrain>(ServiceCountsScope.Region(Region));
        var repair = silo.Grain<IWorkOrderGrain>("o-1");
        var complaint = silo.Grain<IWorkOrderGrain>("o-2");

        await repair.Create(Fault());
        await complaint.Create(OfKind(WorkOrderKind.Complaint, region: Region));
        var opened = await counts.GetCounts();
        await repair.Apply(ByCrew(WorkOrderAction.Accept, "c1"));
        await repair.Apply(ByCrew(WorkOrderAction.StartTravel, "c1"));
        var travelling = await counts.GetCounts();
        await Complete(complaint, "c1");
        await complaint.RecordCallback(new CallbackAttempt(CallbackOutcome.Satisfied, Agent));
        var closed = await counts.GetCounts();

        Assert.Equal((2, 2), (opened.OpenOrders, opened.OrdersByState[WorkOrderState.Dispatched]));
        Assert.Equal((1, 1), (opened.OpenOrdersByKind[WorkOrderKind.FaultRepair], opened.OpenOrdersByKind[WorkOrderKind.Complaint]));
        Assert.Equal((1, 1, 0), (travelling.OrdersByState[WorkOrderState.EnRoute], travelling.OrdersByState[WorkOrderState.Dispatched], travelling.OrdersByState[WorkOrderState.Accepted]));
        Assert.Equal(1, travelling.CrewsByStatus[CrewStatus.Travelling]);
        Assert.Equal((1, 1, 0), (closed.OpenOrders, closed.OrdersByState[WorkOrderState.Closed], closed.OpenOrdersByKind[WorkOrderKind.Complaint]));
        Assert.Equal(0, closed.OrdersByState[WorkOrderState.CallbackPending]);
    }

    [Fact]
    public async Task A_breach_is_counted_once_and_leaves_the_open_count_when_the_order_closes()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var counts = silo.Grain<IServiceCountsGrain>(ServiceCountsScope.Region(QuietRegion));
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault(QuietRegion));

        silo.Advance(TimeSpan.FromMinutes(70));
        await Eventually.True(async () => (await order.GetHistory()).Count(e => e.Type == "Escalated") == 2, "both escalations fire");
        var breached = await counts.GetCounts();
        await order.Apply(ByDispatcher(WorkOrderAction.Cancel));
        var cancelled = await counts.GetCounts();

        Assert.Equal((1, 1, 1), (breached.OpenBreached, breached.BreachesTotal, breached.Escalated));
        Assert.Equal((0, 1, 0, 0), (cancelled.OpenBreached, cancelled.BreachesTotal, cancelled.Escalated, cancelled.OpenOrders));
        Assert.Equal(1, cancelled.OrdersByState[WorkOrderState.Cancelled]);
    }

    [Fact]
    public async Task Counts_survive_a_silo_restart()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault(QuietRegion));
        await silo.Grain<IWorkOrderGrain>("o-2").Create(Fault(QuietRegion));

        await silo.RestartAsync();

        var counts = await silo.Grain<IServiceCountsGrain>(ServiceCountsScope.Region(QuietRegion)).GetCounts();
        Assert.Equal((2, 2), (counts.OpenOrders, counts.OrdersByState[WorkOrderState.Created]));
        Assert.Equal("region:quiet", counts.Scope);
    }
}
