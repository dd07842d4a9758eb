namespace PowerService.Grains;

/// <summary>State a grain writes behind: a change arms one flush <c>delay</c> later (a one-shot grain timer), and
/// deactivation flushes too. A failed flush leaves it marked and arms the next; a write the grain made on its own
/// clears it. A clean grain has no timer at all, which matters for grains with many activations (an area, an outage):
/// a periodic tick would cost each a turn every interval, changed or not.</summary>
internal sealed class WriteBehind(
    Func<Task> write,
    Func<Func<CancellationToken, Task>, TimeSpan, TimeSpan, IDisposable> registerTimer,
    TimeSpan delay,
    Action<Exception>? backgroundFailed = null)
{
    // Made by InBackground, the only way to give a failure callback: a background flush reports its failure there.
    private bool FlushesInBackground => backgroundFailed is not null;

    private bool _changed;
    private IDisposable? _armed;
    private Task? _inFlight;

    /// <summary>A flush that does not hold the grain's turn while the store writes: <paramref name="write"/> must take
    /// everything it writes before its first await (<see cref="IPersistentState{TState}.WriteStateAsync()"/> serializes
    /// when called, and orders the grain's writes). For a grain whose calls must not queue behind its own flush: a
    /// storm's meter events reach every area every second, and waiting out a group commit per area and flush held up
    /// each batch of them.</summary>
    /// <paramref name="failed"/> hears of a background write that failed (nobody awaits it); the next timer writes again.
    public static WriteBehind InBackground(
        Func<Task> write, Func<Func<CancellationToken, Task>, TimeSpan, TimeSpan, IDisposable> registerTimer, TimeSpan delay, Action<Exception> failed) =>
        new(write, registerTimer, delay, failed ?? throw new ArgumentNullException(nameof(failed)));

    public void Changed()
    {
        _changed = true;
        // While a background flush is still being stored, the changes after it wait for it and go in one write: when
        // the store falls behind, each grain writes less often instead of queuing write after write.
        if (_inFlight is not { IsCompleted: false })
        {
            _armed ??= registerTimer(_ => OnTimerAsync(), delay, TimeSpan.Zero);
        }
    }

    /// <summary>The state was just written by the grain itself: nothing is owed.</summary>
    public void Written() => _changed = false;

    /// <summary>Writes what changed, after any write still in flight (deactivation calls this: nothing is left behind).</summary>
    public async Task FlushAsync()
    {
        if (_inFlight is { IsCompleted: false } inFlight)
        {
            await inFlight; // the grain's writes are stored in order: the last one started completes last
        }
        if (!_changed)
        {
            return;
        }
        _changed = false;
        try
        {
            await write();
        }
        catch
        {
            Changed();
            throw;
        }
    }

    private Task OnTimerAsync()
    {
        _armed?.Dispose();
        _armed = null;
        if (!FlushesInBackground || !_changed)
        {
            return FlushAsync();
        }
        _changed = false;
        _inFlight = Observe(write());
        return Task.CompletedTask;
    }

    /// <summary>Continues on the grain's context after a background write: a failed one marks the state changed again,
    /// so the next timer writes it (nothing is lost but time), as do changes made while it was stored. Never throws.</summary>
    private async Task Observe(Task writing)
    {
        var failed = false;
        try
        {
            await writing;
        }
        catch (Exception error)
        {
            failed = true;
            backgroundFailed!(error);
        }
        _inFlight = null;
        if (failed || _changed)
        {
            Changed();
        }
    }
}
