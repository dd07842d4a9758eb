using PowerService.Grains.Crews;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using static PowerService.Grains.Tests.WorkOrders.Scenario;
using static PowerService.Grains.WorkOrders.WorkOrderAction;
using static PowerService.Grains.WorkOrders.WorkOrderState;
using DispatchTo = PowerService.Grains.WorkOrders.WorkOrderAction;

namespace PowerService.Grains.Tests.WorkOrders;

/// <summary>Every (state, action) pair: the legal ones move the order where DESIGN.md §5 says, the illegal ones are a
/// conflict that changes neither the order nor its history.</summary>
public sealed class WorkOrderTransitionTests
{
    private const string Crew = "c1";
    private const string OtherCrew = "c2";

    /// <summary>The lifecycle written out independently of the production table: where each legal action leads, as
    /// the caller sees it (Resolve passes through Resolved to CallbackPending; Reject, ExpireOffer and Reopen go back
    /// to dispatch, which has no crew in the quiet region, so the order stays there).</summary>
    private static readonly Dictionary<WorkOrderState, Dictionary<WorkOrderAction, WorkOrderState>> Legal = new()
    {
        [Created] = new() { [Reserve] = Reserved, [DispatchTo.Dispatch] = Dispatched, [Cancel] = Cancelled, [Merge] = Merged, [Suspend] = Created, [Resume] = Created },
        [Reserved] = new() { [Reserve] = Reserved, [DispatchTo.Dispatch] = Dispatched, [Cancel] = Cancelled, [Merge] = Merged, [Suspend] = Reserved, [Resume] = Reserved },
        [Dispatched] = new()
        {
            [DispatchTo.Dispatch] = Dispatched, [Accept] = Accepted, [Reject] = Rejected, [ExpireOffer] = Rejected, [Cancel] = Cancelled, [Merge] = Merged,
            [Suspend] = Dispatched, [Resume] = Dispatched,
        },
        [Accepted] = new() { [DispatchTo.Dispatch] = Dispatched, [StartTravel] = EnRoute, [Cancel] = Cancelled, [Merge] = Merged, [Suspend] = Accepted, [Resume] = Accepted },
        [EnRoute] = new() { [DispatchTo.Dispatch] = Dispatched, [Arrive] = OnSite, [Cancel] = Cancelled, [Suspend] = EnRoute, [Resume] = EnRoute },
        [OnSite] = new() { [Resolve] = CallbackPending, [Cancel] = Cancelled, [Suspend] = OnSite, [Resume] = OnSite },
        [CallbackPending] = new() { [Close] = Closed, [Reopen] = Reopened },
        [Closed] = new(),
        [Rejected] = new() { [Reserve] = Reserved, [DispatchTo.Dispatch] = Dispatched, [Cancel] = Cancelled, [Merge] = Merged, [Suspend] = Rejected, [Resume] = Rejected },
        [Cancelled] = new(),
        [Merged] = new(),
        [Reopened] = new() { [Reserve] = Reserved, [DispatchTo.Dispatch] = Dispatched, [Cancel] = Cancelled, [Merge] = Merged, [Suspend] = Reopened, [Resume] = Reopened },
    };

    public static TheoryData<WorkOrderState> StoredStates => new(Legal.Keys);

    [Fact]
    public void The_table_allows_exactly_the_written_lifecycle()
    {
        var expected = Legal
            .SelectMany(s => s.Value.Select(a => (From: s.Key, Action: a.Key, To: a.Value == CallbackPending && a.Key == Resolve ? Resolved : a.Value)))
            .Append((From: Resolved, Action: ScheduleCallback, To: CallbackPending))
            .OrderBy(r => r.From).ThenBy(r => r.Action)
            .ToList();

        var actual = WorkOrderTransitions.Rows.OrderBy(r => r.From).ThenBy(r => r.Action).ToList();

        Assert.Equal(expected, actual);
        foreach (var state in Enum.GetValues<WorkOrderState>())
        {
            foreach (var action in Enum.GetValues<WorkOrderAction>())
            {
                var legal = expected.Any(r => r.From == state && r.Action == action);
                Assert.Equal(legal, WorkOrderTransitions.TryNext(state, action, out _));
            }
        }
    }

    [Theory]
    [MemberData(nameof(StoredStates))]
    public async Task Every_action_on_an_order_in_this_state_moves_it_as_the_lifecycle_says_or_is_a_conflict_that_changes_nothing(WorkOrderState from)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, Crew);
        await RegisterCrew(silo, OtherCrew);
        await silo.Grain<IFieldCrewGrain>(Crew).PublishSlots([new TimeSlot(WorkflowSilo.MondayMorning.AddDays(2), WorkflowSilo.MondayMorning.AddDays(2).AddHours(2), 50)], "crew:c1");
        var number = 0;
        foreach (var action in Enum.GetValues<WorkOrderAction>())
        {
            var id = $"o-{from}-{++number}";
            var order = silo.Grain<IWorkOrderGrain>(id);
            var before = await Reach(silo, order, id, from);
            Assert.Equal(from, before.State);
            if (action == Resume && Legal[from].ContainsKey(Resume))
            {
                // Resume ends a hold, so the legal case is a held order.
                before = await order.Apply(ByDispatcher(Suspend));
            }
            var history = await order.GetHistory();
            var command = await CommandFor(silo, order, id, action, before);

            if (from == Reserved && action == Reserve)
            {
                // The order's hold of that slot is the booking it is reserved with, so this confirms it again (a double
                // tap): the same answer, nothing changes.
                Assert.Contains(history, e => e.Type == "Reserved" && e.PayloadJson.Contains(command.TargetId!, StringComparison.Ordinal));
                Assert.Equal(before, await order.Apply(command), ViewComparer.Instance);
                Assert.Equal(history, await order.GetHistory());
            }
            else if (Legal[from].TryGetValue(action, out var expected))
            {
                if (from == Dispatched && action is Suspend or Resume)
                {
                    // The hold keeps the order's state, and also takes back an offer not yet accepted (OfferWithdrawn: the
                    // customer is not home), so the order waits for a crew; resumed, dispatch has no crew in this region.
                    expected = Created;
                }
                var after = action == DispatchTo.Dispatch ? await order.Assign(OtherCrew, Dispatcher) : await order.Apply(command);
                Assert.True(expected == after.State, $"{from} --{action}--> expected {expected}, got {after.State}");
                Assert.True((await order.GetHistory()).Count > history.Count, $"{from} --{action}--> journaled nothing");
            }
            else
            {
                var error = await Assert.ThrowsAsync<DomainConflictException>(() => action == DispatchTo.Dispatch ? order.Assign(OtherCrew, Dispatcher) : order.Apply(command));
                Assert.Contains(id, error.Message, StringComparison.Ordinal);
                Assert.Contains(from.ToString(), error.Message, StringComparison.Ordinal);
                // What was refused, in the words its sender uses: a customer confirming a visit time reads "visit time".
                Assert.Contains(action == WorkOrderAction.Reserve ? "visit time" : action.ToString(), error.Message, StringComparison.Ordinal);
                Assert.Equal(before, await order.Get(), ViewComparer.Instance);
                Assert.Equal(history, await order.GetHistory());
            }
        }
    }

    [Theory]
    [InlineData(Created)]
    [InlineData(Dispatched)]
    [InlineData(OnSite)]
    public async Task Resume_without_a_hold_and_a_second_suspend_are_conflicts(WorkOrderState from)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, Crew);
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await Reach(silo, order, "o-1", from);

        await Assert.ThrowsAsync<DomainConflictException>(() => order.Apply(ByDispatcher(Resume)));
        await order.Apply(ByDispatcher(Suspend));
        var held = await order.Get();
        await Assert.ThrowsAsync<DomainConflictException>(() => order.Apply(ByDispatcher(Suspend)));

        Assert.Equal(held, await order.Get(), ViewComparer.Instance);
    }

    [Theory]
    [InlineData(Accept, Dispatched)]
    [InlineData(Reject, Dispatched)]
    [InlineData(StartTravel, Accepted)]
    [InlineData(Arrive, EnRoute)]
    [InlineData(Resolve, OnSite)]
    public async Task A_crew_action_from_another_crew_is_a_conflict_and_one_without_a_crew_names_the_field(WorkOrderAction action, WorkOrderState from)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, Crew);
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        var before = await Reach(silo, order, "o-1", from);

        var error = await Assert.ThrowsAsync<DomainConflictException>(() => order.Apply(ByCrew(action, OtherCrew)));
        var missing = await Assert.ThrowsAsync<InvalidFieldException>(() => order.Apply(new WorkOrderCommand(action, "crew:?")));

        Assert.Contains(OtherCrew, error.Message, StringComparison.Ordinal);
        Assert.Equal("crewId", missing.Field);
        Assert.Equal(before, await order.Get(), ViewComparer.Instance);
    }

    /// <summary>Drives a new order in the quiet region (no crew: dispatch leaves it waiting) to <paramref name="state"/>.</summary>
    private static async Task<WorkOrderView> Reach(WorkflowSilo silo, IWorkOrderGrain order, string id, WorkOrderState state)
    {
        // The open order a merge folds into.
        var main = silo.Grain<IWorkOrderGrain>("o-main");
        if (await main.Get() is null)
        {
            await main.Create(Fault(QuietRegion));
        }
        var view = await order.Create(Fault(QuietRegion));
        switch (state)
        {
            case Created:
                return view;
            case Reserved:
                return await order.Apply(await ReserveCommand(silo, id));
            case Cancelled:
                return await order.Apply(ByDispatcher(Cancel));
            case Merged:
                return await order.Apply(ByDispatcher(Merge, "o-main"));
        }
        view = await order.Assign(Crew, Dispatcher);
        switch (state)
        {
            case Dispatched:
                return view;
            case Rejected:
                return await order.Apply(ByCrew(Reject, Crew));
            case Accepted:
                return await order.Apply(ByCrew(Accept, Crew));
        }
        await order.Apply(ByCrew(Accept, Crew));
        view = await order.Apply(ByCrew(StartTravel, Crew));
        if (state == EnRoute)
        {
            return view;
        }
        view = await order.Apply(ByCrew(Arrive, Crew));
        if (state == OnSite)
        {
            return view;
        }
        view = await order.Apply(ByCrew(Resolve, Crew));
        return state switch
        {
            CallbackPending => view,
            Closed => await order.RecordCallback(new CallbackAttempt(CallbackOutcome.Satisfied, Agent)),
            Reopened => await order.RecordCallback(new CallbackAttempt(CallbackOutcome.Dissatisfied, Agent)),
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a stored state"),
        };
    }

    private static async Task<WorkOrderCommand> CommandFor(WorkflowSilo silo, IWorkOrderGrain order, string id, WorkOrderAction action, WorkOrderView view) => action switch
    {
        Reserve => await ReserveCommand(silo, id),
        Accept or Reject or StartTravel or Arrive or Resolve => ByCrew(action, view.CrewId ?? Crew),
        ExpireOffer => new WorkOrderCommand(action, "system"),
        Merge => ByDispatcher(Merge, "o-main"),
        DispatchTo.Dispatch => new WorkOrderCommand(action, Dispatcher, CrewId: OtherCrew),
        _ => ByDispatcher(action),
    };

    private static async Task<WorkOrderCommand> ReserveCommand(WorkflowSilo silo, string id)
    {
        var booking = await silo.Grain<IFieldCrewGrain>(Crew).Hold(new BookingRequest(id, WorkflowSilo.MondayMorning.AddDays(2), Agent));
        return new WorkOrderCommand(Reserve, Agent, TargetId: booking.Id);
    }
}

/// <summary>Compares views by value, including their lists.</summary>
internal sealed class ViewComparer : IEqualityComparer<WorkOrderView?>
{
    public static readonly ViewComparer Instance = new();

    private static readonly SlaClockView[] NoClocks = [];

    public bool Equals(WorkOrderView? x, WorkOrderView? y) =>
        x is null || y is null
            ? x is null && y is null
            : x with { SlaClocks = NoClocks, Callback = null } == y with { SlaClocks = NoClocks, Callback = null }
              && x.SlaClocks.SequenceEqual(y.SlaClocks) && x.Callback == y.Callback;

    public int GetHashCode(WorkOrderView? obj) => obj?.Id.GetHashCode(StringComparison.Ordinal) ?? 0;
}
