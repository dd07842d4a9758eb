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
            new(id, "R9", WorkOrderKind.Complaint, state, WorkOrderPriority.Normal, null, null, default, null, false, null, now, version);
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

    [Fact]
    public async Task The_first_page_counts_every_open_order_of_the_region_however_many_pages_follow()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var index = silo.Grain<IOpenOrdersGrain>("R8");
        var now = silo.Clock.GetUtcNow();
        WorkOrderSummary Summary(string id, WorkOrderKind kind, WorkOrderState state, int version) =>
            new(id, "R8", kind, state, WorkOrderPriority.Normal, null, null, default, null, false, null, now, version);
        for (var i = 0; i < 30; i++)
        {
            await index.OrderChanged(Summary($"o-{i:D2}", i % 3 == 0 ? WorkOrderKind.Complaint : WorkOrderKind.FaultRepair, WorkOrderState.Created, 1));
        }
        for (var i = 0; i < 4; i++)
        {
            await index.OrderChanged(Summary($"o-{i:D2}", i % 3 == 0 ? WorkOrderKind.Complaint : WorkOrderKind.FaultRepair, WorkOrderState.Closed, 2));
        }
        await index.OrderChanged(Summary("o-05", WorkOrderKind.FaultRepair, WorkOrderState.Accepted, 2));

        var first = await index.List(new WorkOrderQuery(Region: "R8", Limit: 10));
        var second = await index.List(new WorkOrderQuery(Region: "R8", Limit: 10, ContinuationToken: first.ContinuationToken));
        var complaints = await index.List(new WorkOrderQuery(Kind: WorkOrderKind.Complaint, Limit: 5));
        await silo.RestartAsync();
        var afterRestart = await silo.Grain<IOpenOrdersGrain>("R8").List(new WorkOrderQuery(Limit: 10));

        Assert.Equal((10, 26), (first.Items.Count, first.Total));
        Assert.Equal(10, second.Items.Count);
        Assert.Empty(first.Items.Select(o => o.Id).Intersect(second.Items.Select(o => o.Id)));
        Assert.Equal((5, 8), (complaints.Items.Count, complaints.Total));
        Assert.Equal(26, afterRestart.Total);
        Assert.Equal(first.Items, afterRestart.Items);
    }
}
