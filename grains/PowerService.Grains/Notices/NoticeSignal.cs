using PowerService.Runtime;

namespace PowerService.Grains.Notices;

/// <summary>Wakes the delivery when this silo enqueues notices, so a notice leaves within a batch, not a poll interval.</summary>
internal sealed class NoticeSignal : WakeSignal;
