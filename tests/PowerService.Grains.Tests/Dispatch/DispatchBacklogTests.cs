using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.Dispatch.Roster;

namespace PowerService.Grains.Tests.Dispatch;

/// <summary>The backlog end to end: work orders ask dispatch for a crew, crews report to it, and its timer assigns
/// waiting orders through <see cref="IWorkOrderGrain.Assign"/>.</summary>
public sealed class DispatchBacklogTests
{
    [Fact]
    public async Task A_waiting_order_is_assigned_once_a_crew_reports_in()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = silo.Grain<IWorkOrderGrain>("WO-1");
        var created = await order.Create(Fault("north", At(2)));

        await RegisterCrew(silo, "C-1", "north", At(0));
        silo.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(WorkOrderState.Created, created.State);
        await Eventually.True(async () => (await order.Get())?.CrewId == "C-1", "the backlog drain assigns the order");
        Assert.Equal(WorkOrderState.Dispatched, (await order.Get())!.State);
        Assert.Equal(["WO-1"], (await silo.Grain<IFieldCrewGrain>("C-1").Get())!.QueuedOrders);
        Assert.Equal(0, (await silo.Grain<IDispatchGrain>("north").GetStatus()).Backlog);
    }

    /// <summary>Crew A at 0 km, crew B at 10 km, one order each. The first order (at 4 km) is nearer A; the second (at
    /// -1 km) is next to A. First come, first served gives A the first and B the second: 4 + 11 = 15 km. A storm batch
    /// sees both and gives B the first and A the second: 6 + 1 = 7 km.</summary>
    [Fact]
    public async Task A_storm_batch_assigns_the_backlog_for_less_travel_than_first_come_first_served()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Dispatch.StormBacklogThreshold = 2);

        // Calm region: crews are in place, each order is decided as it arrives.
        await RegisterCrew(silo, "calm-A", "calm", At(0));
        await RegisterCrew(silo, "calm-B", "calm", At(10));
        var calmFirst = await silo.Grain<IWorkOrderGrain>("calm-1").Create(Fault("calm", At(4)));
        var calmSecond = await silo.Grain<IWorkOrderGrain>("calm-2").Create(Fault("calm", At(-1)));

        // Storm region: the orders arrive before any crew can take them, the backlog reaches the threshold.
        await silo.Grain<IWorkOrderGrain>("storm-1").Create(Fault("storm", At(4)));
        await silo.Grain<IWorkOrderGrain>("storm-2").Create(Fault("storm", At(-1)));
        var inStorm = await silo.Grain<IDispatchGrain>("storm").GetStatus();
        await RegisterCrew(silo, "storm-A", "storm", At(0));
        await RegisterCrew(silo, "storm-B", "storm", At(10));
        silo.Advance(new DispatchOptions().StormBatchInterval);

        Assert.Equal(("calm-A", "calm-B"), (calmFirst.CrewId, calmSecond.CrewId));
        Assert.True(inStorm.StormMode);
        Assert.Equal(2, inStorm.Backlog);
        await Eventually.True(
            async () => (await silo.Grain<IWorkOrderGrain>("storm-1").Get())?.CrewId is not null
                && (await silo.Grain<IWorkOrderGrain>("storm-2").Get())?.CrewId is not null,
            "the storm batch assigns both orders");
        Assert.Equal("storm-B", (await silo.Grain<IWorkOrderGrain>("storm-1").Get())!.CrewId);
        Assert.Equal("storm-A", (await silo.Grain<IWorkOrderGrain>("storm-2").Get())!.CrewId);
        var after = await silo.Grain<IDispatchGrain>("storm").GetStatus();
        Assert.False(after.StormMode);
        Assert.Equal(0, after.Backlog);
    }

    /// <summary>The store refuses the new order's write (a full disk): dispatch, asked for a crew before the write, had
    /// queued it and kept it in its backlog, across restarts, until it tried to assign it.</summary>
    [Fact]
    public async Task An_order_whose_creation_was_not_stored_leaves_no_trace_in_the_backlog()
    {
        await using var silo = await WorkflowSilo.StartAsync(storeBusyTimeout: TimeSpan.FromMilliseconds(100));
        await using (await silo.LockStoreAsync())
        {
            await Assert.ThrowsAsync<StorageUnavailableException>(() => silo.Grain<IWorkOrderGrain>("WO-1").Create(Fault("north", At(2))));
        }

        Assert.Equal(0, (await silo.Grain<IDispatchGrain>("north").GetStatus()).Backlog);
        Assert.Null(await silo.Grain<IWorkOrderGrain>("WO-1").Get());
    }

    [Fact]
    public async Task A_cancelled_order_leaves_the_backlog()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = silo.Grain<IWorkOrderGrain>("WO-1");
        await order.Create(Fault("north", At(2)));

        await order.Apply(new WorkOrderCommand(WorkOrderAction.Cancel, "dispatcher:li"));

        await Eventually.True(async () => (await silo.Grain<IDispatchGrain>("north").GetStatus()).Backlog == 0, "the order is withdrawn");
    }

    /// <summary>The customer is not home until 15:00 and the order is put on hold: no crew is sent while it holds (a
    /// storm's batch drove one there ahead of orders whose clocks run); when the hold ends it waits for a crew again.</summary>
    [Fact]
    public async Task An_order_on_the_customers_hold_leaves_the_backlog_and_is_placed_when_the_hold_ends()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = silo.Grain<IWorkOrderGrain>("WO-1");
        await order.Create(Fault("north", At(2)));
        await order.Apply(new WorkOrderCommand(WorkOrderAction.Suspend, "dispatcher:li", Note: "customer not at home until 15:00"));
        await Eventually.True(async () => (await silo.Grain<IDispatchGrain>("north").GetStatus()).Backlog == 0, "the held order leaves the backlog");

        await RegisterCrew(silo, "C-1", "north", At(0));
        silo.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(200);
        Assert.Equal((WorkOrderState.Created, (string?)null), ((await order.Get())!.State, (await order.Get())!.CrewId));

        var resumed = await order.Apply(new WorkOrderCommand(WorkOrderAction.Resume, "dispatcher:li"));

        Assert.Equal((WorkOrderState.Dispatched, "C-1"), (resumed.State, resumed.CrewId));
    }

    /// <summary>The crews file moves C-1 to the south district while a north fault is offered to it: the offer sat on a
    /// crew in another district until it lapsed (5 minutes of a 45-minute arrival promise). It goes back to the north's
    /// dispatch at once, saying why, and the next north crew gets it.</summary>
    [Fact]
    public async Task A_crew_moved_to_another_region_gives_back_the_offers_it_has_not_answered()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "C-1", "north", At(0));
        var order = silo.Grain<IWorkOrderGrain>("WO-1");
        Assert.Equal("C-1", (await order.Create(Fault("north", At(2)))).CrewId);

        await RegisterCrew(silo, "C-1", "south", At(0));
        await RegisterCrew(silo, "C-2", "north", At(5));
        silo.Advance(TimeSpan.FromSeconds(1));

        await Eventually.True(async () => (await order.Get())?.CrewId == "C-2", "the order goes to the north's other crew");
        var history = await order.GetHistory();
        Assert.Contains(history, e => e.Type == WorkOrderEvents.OfferExpired && e.PayloadJson.Contains("moved to region south", StringComparison.Ordinal));
        Assert.DoesNotContain("WO-1", (await silo.Grain<IFieldCrewGrain>("C-1").Get())!.QueuedOrders);
        // Off the north's roster (GET /api/crews?region=north and its consoles listed it as a north crew), on the south's;
        // also after a restart.
        Assert.Equal(["C-2"], await silo.Grain<IDispatchGrain>("north").GetCrewIds());
        Assert.Equal(["C-1"], await silo.Grain<IDispatchGrain>("south").GetCrewIds());
        await silo.RestartAsync();
        Assert.Equal(["C-2"], await silo.Grain<IDispatchGrain>("north").GetCrewIds());
    }

    /// <summary>The crews file drops C-1's low-voltage skill while a fault is offered to it: the offer goes back at once,
    /// saying why, to a crew that has the skill; an offer of work the crew can still do (a complaint) stays.</summary>
    [Fact]
    public async Task A_crew_losing_a_skill_gives_back_the_offers_that_need_it_and_keeps_the_others()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "C-1", "north", At(0), [CrewSkill.LowVoltageRepair, CrewSkill.CustomerService], capacity: 2);
        var fault = silo.Grain<IWorkOrderGrain>("WO-1");
        Assert.Equal("C-1", (await fault.Create(Fault("north", At(2)))).CrewId);
        var complaint = silo.Grain<IWorkOrderGrain>("WO-2");
        Assert.Equal("C-1", (await complaint.Create(Fault("north", At(2)) with { Kind = WorkOrderKind.Complaint })).CrewId);

        await RegisterCrew(silo, "C-1", "north", At(0), [CrewSkill.CustomerService], capacity: 2);
        await RegisterCrew(silo, "C-2", "north", At(5));
        silo.Advance(TimeSpan.FromSeconds(1));

        await Eventually.True(async () => (await fault.Get())?.CrewId == "C-2", "the fault goes to the crew with the skill");
        Assert.Contains(await fault.GetHistory(), e => e.Type == WorkOrderEvents.OfferExpired
            && e.PayloadJson.Contains("no longer has the LowVoltageRepair skill", StringComparison.Ordinal));
        Assert.Equal(("C-1", WorkOrderState.Dispatched), ((await complaint.Get())!.CrewId, (await complaint.Get())!.State));
        Assert.Equal(["WO-2"], (await silo.Grain<IFieldCrewGrain>("C-1").Get())!.QueuedOrders);
    }

    /// <summary>The crews file gives C-1 a shift that ended an hour ago while a fault is offered to it: the offer goes
    /// back at once, not when it lapses.</summary>
    [Fact]
    public async Task A_crew_whose_new_shifts_end_its_current_one_gives_back_its_offers()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "C-1", "north", At(0));
        var order = silo.Grain<IWorkOrderGrain>("WO-1");
        Assert.Equal("C-1", (await order.Create(Fault("north", At(2)))).CrewId);
        var now = silo.Clock.GetUtcNow();

        var profile = (await silo.Grain<IFieldCrewGrain>("C-1").Get())!.Profile;
        await silo.Grain<IFieldCrewGrain>("C-1").Register(profile with { Shifts = [new Shift(now.AddHours(-9), now.AddHours(-1))] }, "ops:import");
        await RegisterCrew(silo, "C-2", "north", At(5));
        silo.Advance(TimeSpan.FromSeconds(1));

        await Eventually.True(async () => (await order.Get())?.CrewId == "C-2", "the fault goes to the crew on shift");
        Assert.Contains(await order.GetHistory(), e => e.Type == WorkOrderEvents.OfferExpired
            && e.PayloadJson.Contains("shifts were changed", StringComparison.Ordinal));
    }

    private static NewWorkOrder Fault(string region, GeoPoint location) =>
        new(WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, "agent:wang", "No power", Region: region, Location: location, AreaClass: AreaClass.Urban);

    private static Task<CrewView> RegisterCrew(WorkflowSilo silo, string id, string region, GeoPoint home, CrewSkill[]? skills = null, int capacity = 1) =>
        silo.Grain<IFieldCrewGrain>(id).Register(
            new CrewProfile($"Crew {id}", region, skills ?? [CrewSkill.LowVoltageRepair], capacity, home, [DayShift]), "dispatcher:li");
}
