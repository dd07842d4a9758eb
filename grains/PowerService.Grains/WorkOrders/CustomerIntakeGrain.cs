using PowerService.Grains.Crews;
using PowerService.Grains.Regions;
using PowerService.Runtime;

namespace PowerService.Grains.WorkOrders;

/// <summary>The customer's open orders are those the region's order list knows, plus those taken here and not yet
/// settled (<see cref="ICustomerIntakeGrain.Settled"/>; forgotten after <see cref="TakenRemembered"/> if that is lost):
/// an order reaches the list a moment after its write, and a request taken meanwhile must count it. Kept in memory
/// only: after a restart the list, put right by the silo's recovery, knows every stored order. (The list never calls
/// orders or this grain, so asking it here cannot deadlock.)</summary>
internal sealed class CustomerIntakeGrain(IJournal journal, IPersistentState<CustomerIntakeState> state) : Grain, ICustomerIntakeGrain
{
    /// <summary>Open self-service requests (app, WeChat, SMS, web) one customer may have; the hotline and the service
    /// hall, where a person takes the call, are not limited and do not count.</summary>
    internal const int MaxOpenSelfServiceRequests = 20;

    /// <summary>Self-service requests one customer may make in <see cref="SelfServiceWindow"/>, open or not: a script
    /// creating and withdrawing a complaint in a loop never had more than one open, and made 60 complaints in 12 s (the
    /// region's complaints per million customers ×61) and 260,000 orders a day.</summary>
    internal const int MaxSelfServiceRequestsPerWindow = 10;

    internal static readonly TimeSpan SelfServiceWindow = TimeSpan.FromHours(24);

    /// <summary>Visits one customer may hold or have booked at once, each for another order of theirs.</summary>
    internal const int MaxVisits = 3;

    private static readonly TimeSpan TakenRemembered = TimeSpan.FromMinutes(1);

    private readonly List<(WorkOrderSummary Order, DateTimeOffset TakenAt)> _taken = [];

    // Visits being held right now, by order: counted until the order has its hold (or was refused), so that holds sent
    // side by side are counted one at a time. Forgotten after TakenRemembered if the settling call is lost.
    private readonly Dictionary<string, DateTimeOffset> _pendingVisits = new(StringComparer.Ordinal);

    public async Task<WorkOrderPage> List(WorkOrderQuery query, string region)
    {
        query.Check();
        var customer = GetPrimaryKeyString();
        var held = await GrainFactory.GetGrain<IOpenOrdersGrain>(region).OfCustomer(customer);
        IEnumerable<WorkOrderSummary> orders = held;
        if (query.State is { } state && WorkOrderTransitions.IsTerminal(state))
        {
            var listed = held.Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
            var finished = await CustomerOrderHistory.ReadAsync(journal, customer, TimeProvider.GetUtcNow());
            orders = held.Concat(finished.Where(o => !listed.Contains(o.Id)));
        }
        return query.Page(orders.OrderBy(WorkOrderSortKey.Of, WorkOrderSortKey.Order));
    }

    public async Task TakeVisit(string orderId, string region)
    {
        var now = TimeProvider.GetUtcNow();
        foreach (var (order, _) in _pendingVisits.Where(v => now - v.Value > TakenRemembered).ToList())
        {
            _pendingVisits.Remove(order);
        }
        var page = await GrainFactory.GetGrain<IOpenOrdersGrain>(region).List(
            new WorkOrderQuery(CustomerId: GetPrimaryKeyString(), Limit: WorkOrderQuery.MaxLimit));
        var others = page.Items.Where(o => o.Id != orderId && !WorkOrderTransitions.IsTerminal(o.State)).ToList();
        var holding = await Task.WhenAll(others.Where(o => o.State != WorkOrderState.Reserved).Select(async o =>
            await GrainFactory.GetGrain<IWorkOrderGrain>(o.Id).HeldVisit() is { } booking
            && BookingId.CrewOf(booking) is { } crew
            && await GrainFactory.GetGrain<IFieldCrewGrain>(crew).GetBooking(booking) is { State: BookingState.Held } held
            && held.HoldExpiresAt > now
                ? o.Id
                : null));
        var visits = others.Where(o => o.State == WorkOrderState.Reserved).Select(o => o.Id)
            .Concat(holding.OfType<string>())
            .Concat(_pendingVisits.Keys.Where(id => id != orderId))
            .Distinct(StringComparer.Ordinal)
            .Count();
        if (visits >= MaxVisits)
        {
            throw new DomainConflictException(
                $"Customer '{GetPrimaryKeyString()}' already holds or has booked {visits} visits; release one (DELETE /api/bookings/{{id}}) or book through the 95598 hotline.", ConflictCodes.LimitReached);
        }
        _pendingVisits[orderId] = now;
    }

    public Task VisitSettled(string orderId)
    {
        _pendingVisits.Remove(orderId);
        return Task.CompletedTask;
    }

    public async Task<string?> Take(WorkOrderSummary request)
    {
        var now = TimeProvider.GetUtcNow();
        _taken.RemoveAll(t => now - t.TakenAt > TakenRemembered || t.Order.Id == request.Id);
        var page = await GrainFactory.GetGrain<IOpenOrdersGrain>(request.Region).List(
            new WorkOrderQuery(CustomerId: GetPrimaryKeyString(), Limit: WorkOrderQuery.MaxLimit));
        var listed = page.Items.Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
        var open = page.Items.Concat(_taken.Select(t => t.Order).Where(o => !listed.Contains(o.Id)))
            .Where(o => o.Id != request.Id && !WorkOrderTransitions.IsTerminal(o.State))
            .ToList();
        // A flood of self-service requests from one customer account (a script, a stolen password) stops here.
        var selfService = open.Count(o => o.Channel.IsSelfService());
        if (request.Channel.IsSelfService() && selfService >= MaxOpenSelfServiceRequests)
        {
            throw new DomainConflictException(
                $"Customer '{GetPrimaryKeyString()}' already has {selfService} open self-service requests; a new one can be made when one of them is done, or through the 95598 hotline.", ConflictCodes.LimitReached);
        }
        if (RepeatedFault(request, open) is { } earlier)
        {
            return earlier; // merged at once: it never counts as open
        }
        if (request.Channel.IsSelfService())
        {
            await CountSelfService(now);
        }
        _taken.Add((request, now));
        return null;
    }

    /// <summary>Counts a self-service request against the window, durably (a restart must not open a new one), or
    /// refuses it when the window is full.</summary>
    private async Task CountSelfService(DateTimeOffset now)
    {
        var made = state.State.SelfServiceAt;
        made.RemoveAll(at => now - at >= SelfServiceWindow);
        if (made.Count >= MaxSelfServiceRequestsPerWindow)
        {
            // In how long, not at what time: the customer's clock is not the silo's.
            var wait = made.Min() + SelfServiceWindow - now;
            throw new DomainConflictException(
                $"Customer '{GetPrimaryKeyString()}' has made {made.Count} requests through the app in the last {SelfServiceWindow.TotalHours:0} hours; the next can be made in {(int)wait.TotalHours} h {wait.Minutes} min, or call the 95598 hotline now.", ConflictCodes.LimitReached);
        }
        made.Add(now);
        await state.WriteStateAsync();
    }

    public Task Settled(string orderId)
    {
        _taken.RemoveAll(t => t.Order.Id == orderId);
        return Task.CompletedTask;
    }

    /// <summary>A customer calling again about a fault whose repair is still ahead (重复来电): their open fault order,
    /// which the new call folds into instead of sending a second crew. An order already resolved is not joined — power
    /// out again after a repair is a new fault.</summary>
    private static string? RepeatedFault(WorkOrderSummary request, List<WorkOrderSummary> open) =>
        request.Kind != WorkOrderKind.FaultRepair
            ? null
            // Still before its resolution: the states an order can be cancelled from.
            : open.FirstOrDefault(o => o.Kind == WorkOrderKind.FaultRepair && WorkOrderTransitions.TryNext(o.State, WorkOrderAction.Cancel, out _))?.Id;
}

/// <summary>What the intake stores of one customer: when their self-service requests of the last
/// <see cref="CustomerIntakeGrain.SelfServiceWindow"/> were made (at most
/// <see cref="CustomerIntakeGrain.MaxSelfServiceRequestsPerWindow"/>).</summary>
internal sealed class CustomerIntakeState
{
    public List<DateTimeOffset> SelfServiceAt { get; set; } = [];
}
