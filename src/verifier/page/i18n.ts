// The capture page's texts in English and Bahasa Indonesia. The session's `language` wins; else
// the browser's Accept-Language; else English. The selfie button's accessible name ("Take selfie" /
// "Ambil selfie") is relied upon by outside tools: keep it.

export const LANGUAGES = ['en', 'id'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = {
  title: 'Take a selfie',
  intro: 'We compare a selfie with the face on record to confirm it is you.',
  introEnrol: 'We take one selfie to set up signing in with your face.',
  startCamera: 'Starting your camera…',
  takeSelfie: 'Take selfie',
  videoLabel: 'Your camera preview',
  cueFit: 'Fit your face inside the oval.',
  cueTooDark: 'It is too dark. Move somewhere brighter or face a light.',
  cueBacklit: 'There is bright light behind you. Turn so the light is on your face.',
  cueTooBright: 'Too much light on your face. Move out of direct light.',
  cueCloser: 'Move closer to the camera.',
  cueFarther: 'Move a little further from the camera.',
  cueCentre: 'Centre your face in the oval.',
  cueNoFace: 'We cannot see a face. Look straight at the camera.',
  cueGood: 'Good. Hold still and take your selfie.',
  flashNotice: 'Photosensitivity warning: when you take your selfie, the screen flashes different colours for a few seconds. If flashing light can affect your health, do not continue.',
  activeNotice: 'When you take your selfie, follow the instructions under the picture: you will be asked to turn your head a few times.',
  flashKeepFace: 'Keep your face in the oval while the screen changes colour',
  activeLookStraight: 'Look straight at the camera',
  activeLeft: 'Turn your head to your left',
  activeRight: 'Turn your head to your right',
  activeUp: 'Look up',
  activeDown: 'Look down',
  activeBack: 'Now look back at the camera',
  privacy: 'Your selfie is used only for this check and is not kept.',
  privacyEnrol: 'The photo is not kept: we keep only an encrypted face template to recognise you next time.',
  processingTitle: 'Checking your selfie…',
  processingBody: 'This takes a few seconds. Please keep this page open.',
  deniedTitle: 'Camera access is blocked',
  deniedBody: 'To continue, allow this page to use your camera:',
  deniedSteps: [
    'Click or tap the camera or lock icon in the address bar.',
    'Set Camera to "Allow" for this site.',
    'Then choose "Try again" below.',
  ],
  tryAgain: 'Try again',
  noCameraTitle: 'No camera found',
  noCameraBody: 'Continue on a phone: scan this code with its camera, take the selfie there, and this page will move on by itself.',
  qrLabel: 'QR code to continue this verification on a phone',
  orOpen: 'Or open this address on your phone:',
  waitingPhone: 'Waiting for the selfie from your phone…',
  cameraBusyTitle: 'Your camera is in use',
  cameraBusyBody: 'Another app or tab is using the camera. Close it, then try again.',
  unsupportedTitle: 'This browser cannot take a selfie',
  unsupportedBody: 'Open this page in a current version of Chrome, Edge, Firefox or Safari, or continue on a phone:',
  expiredTitle: 'This verification has expired',
  expiredBody: 'Go back to the application you came from and start again.',
  doneTitle: 'Verification finished',
  doneBody: 'You can close this page.',
  doneHandoff: 'Done. Go back to your other device to continue.',
  continue: 'Continue',
  errorTitle: 'Something went wrong',
  errorBody: 'We could not send your selfie. Check your connection and try again.',
  busy: 'We are busy right now. Please try again in a moment.',
  retryNoFace: 'We could not find your face. Look straight at the camera in good light and try again.',
  retryMultiple: 'More than one face is in view. Make sure only you are in the picture.',
  retryQuality: 'The picture was not clear enough. Hold still in good light and try again.',
  attemptsLeft: 'Attempts left: {n}',
  noScript: 'This page needs JavaScript to use your camera.',
  skip: 'Skip to content',
};

export type Messages = typeof en;

const id: Messages = {
  title: 'Ambil swafoto',
  intro: 'Kami membandingkan swafoto dengan wajah yang tercatat untuk memastikan ini memang Anda.',
  introEnrol: 'Kami mengambil satu swafoto untuk menyiapkan masuk dengan wajah Anda.',
  startCamera: 'Menyalakan kamera…',
  takeSelfie: 'Ambil selfie',
  videoLabel: 'Pratinjau kamera Anda',
  cueFit: 'Posisikan wajah Anda di dalam oval.',
  cueTooDark: 'Terlalu gelap. Pindah ke tempat yang lebih terang atau hadap ke sumber cahaya.',
  cueBacklit: 'Ada cahaya terang di belakang Anda. Berbaliklah agar cahaya mengenai wajah Anda.',
  cueTooBright: 'Cahaya di wajah terlalu terang. Hindari cahaya langsung.',
  cueCloser: 'Dekatkan wajah ke kamera.',
  cueFarther: 'Jauhkan sedikit wajah dari kamera.',
  cueCentre: 'Posisikan wajah di tengah oval.',
  cueNoFace: 'Wajah tidak terlihat. Lihat lurus ke kamera.',
  cueGood: 'Bagus. Tahan posisi dan ambil swafoto.',
  flashNotice: 'Peringatan fotosensitivitas: saat Anda mengambil swafoto, layar akan berkedip dengan berbagai warna selama beberapa detik. Jika cahaya berkedip dapat mengganggu kesehatan Anda, jangan lanjutkan.',
  activeNotice: 'Saat Anda mengambil swafoto, ikuti petunjuk di bawah gambar: Anda akan diminta menggerakkan kepala beberapa kali.',
  flashKeepFace: 'Jaga wajah Anda tetap di dalam oval selama warna layar berubah',
  activeLookStraight: 'Lihat lurus ke kamera',
  activeLeft: 'Tolehkan kepala ke kiri Anda',
  activeRight: 'Tolehkan kepala ke kanan Anda',
  activeUp: 'Lihat ke atas',
  activeDown: 'Lihat ke bawah',
  activeBack: 'Sekarang lihat kembali ke kamera',
  privacy: 'Swafoto Anda hanya dipakai untuk pemeriksaan ini dan tidak disimpan.',
  privacyEnrol: 'Fotonya tidak disimpan: kami hanya menyimpan templat wajah terenkripsi untuk mengenali Anda lain kali.',
  processingTitle: 'Memeriksa swafoto Anda…',
  processingBody: 'Ini butuh beberapa detik. Jangan tutup halaman ini.',
  deniedTitle: 'Akses kamera diblokir',
  deniedBody: 'Untuk melanjutkan, izinkan halaman ini memakai kamera Anda:',
  deniedSteps: [
    'Klik atau ketuk ikon kamera atau gembok di bilah alamat.',
    'Ubah Kamera menjadi "Izinkan" untuk situs ini.',
    'Lalu pilih "Coba lagi" di bawah.',
  ],
  tryAgain: 'Coba lagi',
  noCameraTitle: 'Kamera tidak ditemukan',
  noCameraBody: 'Lanjutkan di ponsel: pindai kode ini dengan kamera ponsel, ambil swafoto di sana, dan halaman ini akan berlanjut sendiri.',
  qrLabel: 'Kode QR untuk melanjutkan verifikasi ini di ponsel',
  orOpen: 'Atau buka alamat ini di ponsel Anda:',
  waitingPhone: 'Menunggu swafoto dari ponsel Anda…',
  cameraBusyTitle: 'Kamera sedang dipakai',
  cameraBusyBody: 'Aplikasi atau tab lain sedang memakai kamera. Tutup dulu, lalu coba lagi.',
  unsupportedTitle: 'Browser ini tidak bisa mengambil swafoto',
  unsupportedBody: 'Buka halaman ini di Chrome, Edge, Firefox atau Safari versi terbaru, atau lanjutkan di ponsel:',
  expiredTitle: 'Verifikasi ini sudah kedaluwarsa',
  expiredBody: 'Kembali ke aplikasi asal Anda dan mulai lagi.',
  doneTitle: 'Verifikasi selesai',
  doneBody: 'Anda boleh menutup halaman ini.',
  doneHandoff: 'Selesai. Kembali ke perangkat Anda yang lain untuk melanjutkan.',
  continue: 'Lanjutkan',
  errorTitle: 'Terjadi kesalahan',
  errorBody: 'Swafoto Anda tidak dapat dikirim. Periksa koneksi Anda lalu coba lagi.',
  busy: 'Layanan sedang sibuk. Silakan coba lagi sebentar lagi.',
  retryNoFace: 'Wajah Anda tidak ditemukan. Lihat lurus ke kamera di tempat yang terang, lalu coba lagi.',
  retryMultiple: 'Ada lebih dari satu wajah. Pastikan hanya Anda yang ada di gambar.',
  retryQuality: 'Gambar kurang jelas. Tahan posisi di tempat yang terang lalu coba lagi.',
  attemptsLeft: 'Sisa percobaan: {n}',
  noScript: 'Halaman ini memerlukan JavaScript untuk memakai kamera Anda.',
  skip: 'Lewati ke konten',
};

export const MESSAGES: Record<Language, Messages> = { en, id };

/** The texts the page's script shows (the rest are rendered into the HTML). */
export const SCRIPT_TEXTS = [
  'cueFit', 'cueTooDark', 'cueBacklit', 'cueTooBright', 'cueCloser', 'cueFarther', 'cueCentre', 'cueNoFace', 'cueGood', 'busy',
  'retryNoFace', 'retryMultiple', 'retryQuality', 'attemptsLeft',
  // FLASHING and ACTIVE_3D challenges: what the page announces while recording
  'flashKeepFace', 'activeLookStraight', 'activeLeft', 'activeRight', 'activeUp', 'activeDown', 'activeBack',
] as const satisfies readonly (keyof Messages)[];

export function scriptTexts(t: Messages): Record<string, string> {
  return Object.fromEntries(SCRIPT_TEXTS.map((k) => [k, t[k] as string]));
}

function primary(tag: string): string {
  return tag.trim().toLowerCase().split(/[-_]/)[0] ?? '';
}

/** Session language first, then the Accept-Language entries by quality, then English. */
export function pickLanguage(sessionLanguage: string | null, acceptLanguage: string | undefined): Language {
  const known = (tag: string) => (LANGUAGES as readonly string[]).includes(primary(tag));
  if (sessionLanguage && known(sessionLanguage)) return primary(sessionLanguage) as Language;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((e) => e.tag && e.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  const hit = ranked.find((e) => known(e.tag));
  return hit ? (primary(hit.tag) as Language) : 'en';
}
