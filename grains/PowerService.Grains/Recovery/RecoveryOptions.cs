namespace PowerService.Grains.Recovery;

/// <summary>Settings of the silo's view recovery after a crash (<see cref="ViewRecovery"/>; section
/// <c>Workflow:Recovery</c>).</summary>
public sealed class RecoveryOptions
{
    /// <summary>How often the checkpoint moves (one small write).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How far the checkpoint trails the journal: it is the journal's end sampled at least this long ago. It
    /// must exceed the slowest view's save delay (dispatch's roster: 30 s between saves, checked on its 1 s tick), with a
    /// margin for reports queued behind a storm; a crash replays the changes of the last lag plus one interval.</summary>
    public TimeSpan CheckpointLag { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Orders, outages and plans asked at once to tell their views again while the silo starts.</summary>
    public int OrdersInFlight { get; set; } = 32;

    /// <param name="slowestView">The longest a view written behind takes to store what it heard.</param>
    internal void Validate(TimeSpan slowestView)
    {
        if (CheckpointInterval < TimeSpan.FromSeconds(1) || CheckpointLag <= slowestView || OrdersInFlight < 1)
        {
            throw new ArgumentException(
                $"Recovery: CheckpointInterval is at least 1 s, CheckpointLag more than {slowestView.TotalSeconds:0} s (the slowest view's save delay), OrdersInFlight positive.");
        }
    }
}

/// <summary>What the recovery at the silo's start did: the work orders, crews, outages and planned outages journaled after
/// checkpoint <paramref name="From"/> up to <paramref name="End"/> that told their views again, how many of those
/// failed, and how long it took.</summary>
public sealed record ViewReplay(int Orders, int Crews, int Outages, int PlannedOutages, long From, long End, int Failed, TimeSpan Elapsed);
