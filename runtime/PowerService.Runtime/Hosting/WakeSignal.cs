namespace PowerService.Runtime;

/// <summary>Wakes background loops that would otherwise poll: whoever makes work for them pulses, every loop waiting
/// wakes. Free when nobody waits (a pulse reads one field). A loop takes <see cref="Next"/> BEFORE it looks for work
/// and awaits it only when it found none, so a pulse between the look and the wait is not lost. A loop that also sees
/// work made elsewhere (another silo) still polls, and uses the signal to wake early.</summary>
public class WakeSignal
{
    private TaskCompletionSource? _next;

    /// <summary>A task that completes at the next <see cref="Pulse"/> (never faults).</summary>
    public Task Next()
    {
        var waiting = Volatile.Read(ref _next);
        if (waiting is not null)
        {
            return waiting.Task;
        }
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return (Interlocked.CompareExchange(ref _next, created, null) ?? created).Task;
    }

    /// <summary>Wakes every waiter; call it after the work is visible to them.</summary>
    public void Pulse()
    {
        if (Volatile.Read(ref _next) is not null)
        {
            Interlocked.Exchange(ref _next, null)?.TrySetResult();
        }
    }
}
