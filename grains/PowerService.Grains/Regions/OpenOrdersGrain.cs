using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Regions;

/// <summary>A region's order index. In memory: summaries by id, a sorted set in list order (most urgent first) so a page
/// starts where the continuation token points, and each customer's order ids so a customer's list never walks the
/// region. Finished orders stay as a tail of the last <see cref="FinishedKept"/>, oldest dropped first.
/// Persisted write-behind, at most once per <see cref="FlushInterval"/> while something changed and on deactivation:
/// storage offers no scan of order states to rebuild from, and writing per report would double every order write.
/// A crash loses the reports of the last interval; the silo's recovery has each order the journal changed since its
/// last checkpoint report again before the silo takes calls (<see cref="Recovery.ViewRecovery"/>).</summary>
internal sealed class OpenOrdersGrain(IPersistentState<OpenOrdersRecord> state) : Grain, IOpenOrdersGrain
{
    public const int FinishedKept = 500;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, WorkOrderSummary> _orders = new(StringComparer.Ordinal);
    private readonly SortedSet<WorkOrderSortKey> _ranked = new(WorkOrderSortKey.Order);
    private readonly Dictionary<string, List<string>> _byCustomer = new(StringComparer.Ordinal);
    private readonly Queue<string> _finished = new();
    private WriteBehind _index = null!;
    private int _open;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _index = new WriteBehind(WriteAsync, RegisterTimer, FlushInterval);
        foreach (var order in state.State.Orders)
        {
            Put(order);
        }
        state.State.Orders = [];
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Flush();

    public Task OrderChanged(WorkOrderSummary order)
    {
        if (_orders.TryGetValue(order.Id, out var held) && held.Version > order.Version)
        {
            return Task.CompletedTask;
        }
        Put(order);
        _index.Changed();
        return Task.CompletedTask;
    }

    public Task<WorkOrderPage> List(WorkOrderQuery query)
    {
        query.Check();
        if (query.CustomerId is { } customer)
        {
            IEnumerable<WorkOrderSummary> own = _byCustomer.TryGetValue(customer, out var ids) ? ids.Select(id => _orders[id]) : [];
            return Task.FromResult(query.Page(own.OrderBy(WorkOrderSortKey.Of, WorkOrderSortKey.Order)));
        }
        // The region's first page is the console's most frequent read: with no filter its total is the open count kept
        // here, so the walk stops after the page instead of passing every order of the region.
        var matching = query.ListsEveryOpenOrder && (query.Region is null || query.Region == GetPrimaryKeyString()) ? _open : (int?)null;
        return Task.FromResult(query.Page(Ranked(query.ContinuationToken).Select(key => _orders[key.Id]), matching));
    }

    public Task<IReadOnlyList<WorkOrderSummary>> OfCustomer(string customerId) =>
        Task.FromResult<IReadOnlyList<WorkOrderSummary>>(_byCustomer.TryGetValue(customerId, out var ids) ? [.. ids.Select(id => _orders[id])] : []);

    /// <summary>The index in list order, from the token's position on when there is one.</summary>
    private IEnumerable<WorkOrderSortKey> Ranked(string? token)
    {
        if (token is null)
        {
            return _ranked;
        }
        var after = WorkOrderSortKey.Parse(token);
        return _ranked.Count == 0 || after.CompareTo(_ranked.Max) >= 0 ? [] : _ranked.GetViewBetween(after, _ranked.Max);
    }

    private void Put(WorkOrderSummary order)
    {
        if (_orders.Remove(order.Id, out var held))
        {
            _ranked.Remove(WorkOrderSortKey.Of(held));
        }
        else
        {
            if (order.CustomerId is { } customer)
            {
                if (!_byCustomer.TryGetValue(customer, out var ids))
                {
                    _byCustomer[customer] = ids = new List<string>(1);
                }
                ids.Add(order.Id);
            }
            if (WorkOrderTransitions.IsTerminal(order.State))
            {
                Finished(order.Id);
            }
        }
        if (held is not null && !WorkOrderTransitions.IsTerminal(held.State) && WorkOrderTransitions.IsTerminal(order.State))
        {
            Finished(order.Id);
        }
        if (held is not null && !WorkOrderTransitions.IsTerminal(held.State))
        {
            _open--;
        }
        if (!WorkOrderTransitions.IsTerminal(order.State))
        {
            _open++;
        }
        _orders[order.Id] = order;
        _ranked.Add(WorkOrderSortKey.Of(order));
    }

    /// <summary>Keeps the finished tail bounded: the oldest finished order leaves the index.</summary>
    private void Finished(string id)
    {
        _finished.Enqueue(id);
        while (_finished.Count > FinishedKept && _finished.TryDequeue(out var oldest))
        {
            if (!_orders.Remove(oldest, out var dropped))
            {
                continue;
            }
            _ranked.Remove(WorkOrderSortKey.Of(dropped));
            if (!WorkOrderTransitions.IsTerminal(dropped.State))
            {
                _open--;
            }
            if (dropped.CustomerId is { } customer && _byCustomer.TryGetValue(customer, out var ids))
            {
                ids.Remove(oldest);
                if (ids.Count == 0)
                {
                    _byCustomer.Remove(customer);
                }
            }
        }
    }

    private Task Flush() => _index.FlushAsync();

    private async Task WriteAsync()
    {
        // Finished orders are stored oldest first, so a reload rebuilds the tail in the order it was dropped from.
        var finished = new HashSet<string>(_finished, StringComparer.Ordinal);
        state.State.Orders = [.. _orders.Values.Where(o => !finished.Contains(o.Id)), .. _finished.Select(id => _orders[id])];
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            state.State.Orders = [];
        }
    }
}

/// <summary>The stored index: every held summary, open ones first, then the finished tail oldest first.</summary>
internal sealed class OpenOrdersRecord
{
    public List<WorkOrderSummary> Orders { get; set; } = [];
}
