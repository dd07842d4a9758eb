namespace PowerService.Grains.WorkOrders;

/// <summary>A filter and one page of an order list. Lists are ordered most urgent first: by the due time of the
/// running SLA clock (orders without one last), then by id. The continuation token is the position of the last row
/// returned (keyset paging), so orders created or closed while a client pages do not shift the rows it has not yet
/// read. <paramref name="State"/> null means every open state; a finished state lists the region's recent tail.</summary>
public sealed record WorkOrderQuery(
    WorkOrderState? State = null,
    WorkOrderKind? Kind = null,
    string? Region = null,
    string? CrewId = null,
    string? CustomerId = null,
    int Limit = WorkOrderQuery.DefaultLimit,
    string? ContinuationToken = null)
{
    public const int DefaultLimit = 200;
    public const int MaxLimit = 1000;

    public bool Matches(WorkOrderSummary order) =>
        (State is { } state ? order.State == state : !WorkOrderTransitions.IsTerminal(order.State))
        && (Kind is not { } kind || order.Kind == kind)
        && (Region is null || order.Region == Region)
        && (CrewId is null || order.CrewId == CrewId)
        && (CustomerId is null || order.CustomerId == CustomerId);

    /// <summary>True when every open order of the listed set matches: no state, kind, crew or customer filter.</summary>
    public bool ListsEveryOpenOrder => State is null && Kind is null && CrewId is null && CustomerId is null;

    /// <summary>One page of <paramref name="ordered"/> (already in <see cref="WorkOrderSortKey"/> order): the rows
    /// after the token that match, at most <see cref="Limit"/>. The total of matching rows is counted on the first page
    /// only (later pages would pay the same walk again for a number the client already has). A caller that already
    /// knows how many rows match passes <paramref name="matching"/>, and the walk stops once the page is full.</summary>
    public WorkOrderPage Page(IEnumerable<WorkOrderSummary> ordered, int? matching = null)
    {
        Check();
        var after = ContinuationToken is null ? (WorkOrderSortKey?)null : WorkOrderSortKey.Parse(ContinuationToken);
        var items = new List<WorkOrderSummary>(Math.Min(Limit, 64));
        var more = false;
        var total = 0;
        foreach (var order in ordered)
        {
            if (after is { } start && WorkOrderSortKey.Of(order).CompareTo(start) <= 0)
            {
                continue;
            }
            if (!Matches(order))
            {
                continue;
            }
            total++;
            if (items.Count < Limit)
            {
                items.Add(order);
                continue;
            }
            more = true;
            if (after is not null || matching is not null)
            {
                break;
            }
        }
        return new WorkOrderPage(items, more ? WorkOrderSortKey.Of(items[^1]).ToToken() : null, after is null ? matching ?? total : null);
    }

    /// <summary>Throws for a limit out of range or a token this service did not issue (HTTP 400 naming the field).</summary>
    public void Check()
    {
        if (Limit is < 1 or > MaxLimit)
        {
            throw new InvalidFieldException("limit", $"limit is 1 to {MaxLimit}.");
        }
        if (State is { } state && !Enum.IsDefined(state))
        {
            throw new InvalidFieldException("state", "Unknown work order state.");
        }
        if (Kind is { } kind && !Enum.IsDefined(kind))
        {
            throw new InvalidFieldException("kind", "Unknown work order kind.");
        }
        if (ContinuationToken is not null)
        {
            WorkOrderSortKey.Parse(ContinuationToken);
        }
    }
}

/// <summary>One page of orders; <paramref name="ContinuationToken"/> is null on the last page; <paramref name="Total"/>
/// (matching orders) is given on the first page.</summary>
public sealed record WorkOrderPage(IReadOnlyList<WorkOrderSummary> Items, string? ContinuationToken, int? Total);

/// <summary>Where an order sits in a list: due time of its running clock (none: last), then id.</summary>
public readonly record struct WorkOrderSortKey(long DueTicks, string Id)
{
    public static readonly IComparer<WorkOrderSortKey> Order = Comparer<WorkOrderSortKey>.Create((a, b) => a.CompareTo(b));

    public static WorkOrderSortKey Of(WorkOrderSummary order) => new(order.Due?.DueAt.UtcTicks ?? long.MaxValue, order.Id);

    public int CompareTo(WorkOrderSortKey other)
    {
        var byDue = DueTicks.CompareTo(other.DueTicks);
        return byDue != 0 ? byDue : string.CompareOrdinal(Id, other.Id);
    }

    /// <summary>Opaque to clients (<see cref="ListPosition"/>).</summary>
    public string ToToken() => new ListPosition(DueTicks, Id).ToToken();

    public static WorkOrderSortKey Parse(string token)
    {
        var position = ListPosition.Parse(token);
        return new WorkOrderSortKey(position.Rank, position.Id);
    }
}
