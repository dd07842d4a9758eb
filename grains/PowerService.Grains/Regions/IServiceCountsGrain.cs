using PowerService.Grains.Crews;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Regions;

/// <summary>Live counts for one scope, kept from the changes its work orders and crews report, never by scanning.
/// Keys: <c>region:{id}</c>, <c>grid:{id}</c>.</summary>
public interface IServiceCountsGrain : IGrain
{
    /// <summary>A work order moved from <paramref name="change"/>.Previous (null when new) to its current state.
    /// One-way, like the open-order index: the counts are a view of stored changes.</summary>
    [OneWay]
    Task OrderChanged(OrderCountChange change);

    /// <summary>A crew's status changed (previous null when the crew is new to this scope, current null when it left).</summary>
    [OneWay]
    Task CrewChanged(CrewCountChange change);

    Task<ServiceCounts> GetCounts();
}

/// <summary>An order's counted facts before and after one change; <c>Previous</c> is null for a new order.</summary>
public sealed record OrderCountChange(string OrderId, OrderCountKey? Previous, OrderCountKey Current);

public sealed record OrderCountKey(WorkOrderKind Kind, WorkOrderState State, bool Breached, bool Escalated);

public sealed record CrewCountChange(string CrewId, CrewStatus? Previous, CrewStatus? Current);

public sealed record ServiceCounts(
    string Scope,
    IReadOnlyDictionary<WorkOrderState, int> OrdersByState,
    IReadOnlyDictionary<WorkOrderKind, int> OpenOrdersByKind,
    IReadOnlyDictionary<CrewStatus, int> CrewsByStatus,
    int OpenOrders,
    int OpenBreached,
    int BreachesTotal,
    int Escalated,
    DateTimeOffset AsOf);
