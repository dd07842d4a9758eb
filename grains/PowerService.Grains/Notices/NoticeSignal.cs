namespace PowerService.Grains.Notices;

/// <summary>Wakes the delivery when this silo enqueues notices, so a notice leaves within a batch, not a poll interval.</summary>
internal sealed class NoticeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Completes at the next <see cref="Pulse"/>. Take the task before looking for work, so a pulse between the
    /// look and the wait is not lost.</summary>
    public Task NextAsync() => Volatile.Read(ref _next).Task;
}
