import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { takeTokenFromUrl } from './auth';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

// Out of the address bar before anything renders: history, bookmarks and screenshots never keep it.
const loginToken = takeTokenFromUrl();

createRoot(root).render(
  <StrictMode>
    <App loginToken={loginToken} />
  </StrictMode>,
);
