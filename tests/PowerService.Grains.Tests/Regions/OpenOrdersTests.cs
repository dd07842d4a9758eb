using PowerService.Grains.Regions;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using static PowerService.Grains.Tests.WorkOrders.Scenario;

namespace PowerService.Grains.Tests.Regions;

/// <summary>A region's order index follows its orders change by change, survives a restart, and keeps only a bounded
/// tail of finished orders.</summary>
public sealed class OpenOrdersTests
{
    [Fact]
    public async Task The_index_follows_each_change_and_survives_a_silo_restart()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1");
        await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault());
        await silo.Grain<IWorkOrderGrain>("o-2").Create(OfKind(WorkOrderKind.Complaint, region: Region));
        await silo.Grain<IWorkOrderGrain>("o-1").Apply(ByCrew(WorkOrderAction.Accept, "c1"));
        await silo.Grain<IWorkOrderGrain>("o-2").Apply(ByDispatcher(WorkOrderAction.Cancel));

        var before = await silo.Grain<IOpenOrdersGrain>(Region).List(new WorkOrderQuery());
        await silo.RestartAsync();
        var after = await silo.Grain<IOpenOrdersGrain>(Region).List(new WorkOrderQuery());
        var cancelled = await silo.Grain<IOpenOrdersGrain>(Region).List(new WorkOrderQuery(State: WorkOrderState.Cancelled));

        var open = Assert.Single(before.Items);
        Assert.Equal(("o-1", WorkOrderState.Accepted, "c1"), (open.Id, open.State, open.CrewId));
        Assert.Equal(before.Items, after.Items);
        Assert.Equal("o-2", Assert.Single(cancelled.Items).Id);
    }

    [Fact]
    public async Task Only_the_most_recent_finished_orders_are_kept_and_an_older_report_never_replaces_a_newer_one()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var index = silo.Grain<IOpenOrdersGrain>("R9");
        var now = silo.Clock.GetUtcNow();
        WorkOrderSummary Summary(string id, WorkOrderState state, int version) =>
            new(id, "R9", WorkOrderKind.Complaint, state, WorkOrderPriority.Normal, null, null, default, null, false, now, version);
        for (var i = 0; i < OpenOrdersGrain.FinishedKept + 10; i++)
        {
            await index.OrderChanged(Summary($"f-{i:D4}", WorkOrderState.Closed, 5));
        }
        await index.OrderChanged(Summary("o-1", WorkOrderState.Accepted, 4));
        await index.OrderChanged(Summary("o-1", WorkOrderState.Created, 2));

        var closed = await index.List(new WorkOrderQuery(State: WorkOrderState.Closed, Limit: WorkOrderQuery.MaxLimit));
        var open = await index.List(new WorkOrderQuery());

        Assert.Equal(OpenOrdersGrain.FinishedKept, closed.Total);
        Assert.Equal("f-0010", closed.Items[0].Id);
        Assert.Equal(WorkOrderState.Accepted, Assert.Single(open.Items).State);
    }
}
